/**
 * Key numbers of a run, computed from its records (pure): final and best test accuracy,
 * iterations to a target accuracy, the LR range used, interpolation barriers and minima,
 * range-test suggestions. The report table and the dashboard list show these.
 */
import type { EvalRecord, InterpolationRecord, RunRecord, TrainRecord } from './records.js';

/** Interpolation numbers for one split (train or test loss against alpha). */
export interface InterpolationSummary {
  /** Loss at alpha = 0 (the from checkpoint) and alpha = 1 (the to checkpoint), linearly interpolated between samples when needed. */
  lossAt0: number | null;
  lossAt1: number | null;
  /**
   * Barrier height: max over 0 <= alpha <= 1 of loss(alpha) - ((1 - alpha) * loss(0) + alpha * loss(1)),
   * the rise above the straight line between the two solutions (0 when the curve is convex there).
   */
  barrier: number | null;
  /** Alpha of the barrier's peak. */
  barrierAlpha: number | null;
  /** Alpha (over the whole sweep) of the lowest loss, and that loss. */
  minAlpha: number | null;
  minLoss: number | null;
  /** Accuracy at the alpha of the highest accuracy. */
  bestAccuracy: number | null;
  bestAccuracyAlpha: number | null;
}

export interface RunSummary {
  kind: string;
  status: string;
  /** Last training iteration recorded (null without training records). */
  iterations: number | null;
  evaluations: number;
  finalTestAccuracy: number | null;
  finalTestIter: number | null;
  bestTestAccuracy: number | null;
  bestTestIter: number | null;
  finalTestLoss: number | null;
  /** Mean training loss over the last 100 iterations (fewer when the run is shorter). */
  finalTrainLoss: number | null;
  /** Whether a training or test loss is non-finite (NaN/inf, null in the file). */
  diverged: boolean;
  minLr: number | null;
  maxLr: number | null;
  target: number | null;
  /** First evaluated iteration whose test accuracy reached `target` (null: never, or no target). */
  itersToTarget: number | null;
  rangeSuggestions: Record<string, unknown> | null;
  interpolation: { train: InterpolationSummary | null; test: InterpolationSummary | null } | null;
}

const finite = (x: number): boolean => Number.isFinite(x);

export function testEvals(evals: readonly EvalRecord[]): EvalRecord[] {
  return evals.filter((e) => e.split === 'test');
}

/** The first evaluation whose accuracy is >= target, or null. */
export function itersToTarget(evals: readonly EvalRecord[], target: number): number | null {
  for (const e of testEvals(evals)) if (finite(e.accuracy) && e.accuracy >= target) return e.iter;
  return null;
}

function meanTail(train: readonly TrainRecord[], n: number): number | null {
  if (train.length === 0) return null;
  const tail = train.slice(-n);
  return tail.reduce((s, r) => s + r.trainLoss, 0) / tail.length;
}

/** Loss at a given alpha: the sample there, or the straight line between its neighbours. */
function lossAt(pts: readonly InterpolationRecord[], alpha: number): number | null {
  let lo: InterpolationRecord | undefined, hi: InterpolationRecord | undefined;
  for (const p of pts) {
    if (p.alpha === alpha) return p.loss;
    if (p.alpha < alpha && (!lo || p.alpha > lo.alpha)) lo = p;
    if (p.alpha > alpha && (!hi || p.alpha < hi.alpha)) hi = p;
  }
  if (!lo || !hi) return null;
  return lo.loss + ((hi.loss - lo.loss) * (alpha - lo.alpha)) / (hi.alpha - lo.alpha);
}

export function interpolationSummary(records: readonly InterpolationRecord[], split: 'train' | 'test'): InterpolationSummary | null {
  const pts = records.filter((r) => r.split === split).sort((a, b) => a.alpha - b.alpha);
  if (pts.length === 0) return null;
  const l0 = lossAt(pts, 0), l1 = lossAt(pts, 1);
  let barrier: number | null = null, barrierAlpha: number | null = null;
  if (l0 !== null && l1 !== null && finite(l0) && finite(l1)) {
    for (const p of pts) {
      if (p.alpha < 0 || p.alpha > 1) continue;
      const rise = p.loss - ((1 - p.alpha) * l0 + p.alpha * l1);
      if (!finite(p.loss)) { barrier = Infinity; barrierAlpha = p.alpha; break; }
      if (barrier === null || rise > barrier) { barrier = rise; barrierAlpha = p.alpha; }
    }
    // Rounding leaves ~1e-17 on a straight or convex curve: that is no barrier.
    if (barrier !== null && barrier < 1e-9 * Math.max(1, Math.abs(l0), Math.abs(l1))) barrier = 0;
  }
  let minP: InterpolationRecord | undefined, accP: InterpolationRecord | undefined;
  for (const p of pts) {
    if (finite(p.loss) && (!minP || p.loss < minP.loss)) minP = p;
    if (finite(p.accuracy) && (!accP || p.accuracy > accP.accuracy)) accP = p;
  }
  return {
    lossAt0: l0, lossAt1: l1, barrier, barrierAlpha,
    minAlpha: minP?.alpha ?? null, minLoss: minP?.loss ?? null,
    bestAccuracy: accP?.accuracy ?? null, bestAccuracyAlpha: accP?.alpha ?? null,
  };
}

export function summarizeRun(run: RunRecord, o: { target?: number } = {}): RunSummary {
  const test = testEvals(run.evals);
  const last = test[test.length - 1];
  let best: EvalRecord | undefined;
  for (const e of test) if (finite(e.accuracy) && (!best || e.accuracy > best.accuracy)) best = e;
  let minLr: number | null = null, maxLr: number | null = null;
  for (const r of run.train) {
    if (!finite(r.lr)) continue;
    if (minLr === null || r.lr < minLr) minLr = r.lr;
    if (maxLr === null || r.lr > maxLr) maxLr = r.lr;
  }
  const diverged = run.train.some((r) => !finite(r.trainLoss)) || test.some((e) => !finite(e.loss));
  const target = o.target ?? null;
  return {
    kind: run.info.kind,
    status: run.info.status,
    iterations: run.train.length ? run.train[run.train.length - 1]!.iter : null,
    evaluations: test.length,
    finalTestAccuracy: last ? last.accuracy : null,
    finalTestIter: last ? last.iter : null,
    bestTestAccuracy: best ? best.accuracy : null,
    bestTestIter: best ? best.iter : null,
    finalTestLoss: last ? last.loss : null,
    finalTrainLoss: meanTail(run.train, 100),
    diverged,
    minLr, maxLr,
    target,
    itersToTarget: target === null ? null : itersToTarget(run.evals, target),
    rangeSuggestions: run.rangeTest ? run.rangeTest.suggestions : null,
    interpolation: run.interpolation && run.interpolation.length
      ? { train: interpolationSummary(run.interpolation, 'train'), test: interpolationSummary(run.interpolation, 'test') }
      : null,
  };
}
