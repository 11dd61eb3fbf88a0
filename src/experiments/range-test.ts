/**
 * LR range test — Smith & Topin, "Exploring loss function topology with cyclical learning rates"
 * (2017), Fig. 1b (test accuracy of ResNet-52/56/60 on CIFAR-10 while the LR rises linearly from
 * 0.001 to 1), after Smith, "Cyclical learning rates for training neural networks" (2015) §3.3.
 *
 * Expected result (paper, Caffe, ResNet-56, CIFAR-10): test accuracy rises from chance once the LR
 * passes ~0.01, dips around LR = 0.1, then stays high over an unusually wide span (0.25 to 1.0)
 * before it falls; the training loss, smoothed, has a long valley and finally explodes.
 *
 * The LR is swept linearly (the paper: Caffe's triangular policy with base = min and stepsize =
 * iters, i.e. the `range` schedule) or exponentially (fastai's lr_find). Every iteration logs the
 * training loss and fastai's bias-corrected exponentially smoothed loss (beta 0.98); every
 * `evalEvery` iterations the fixed class-balanced test subset of `evalSize` images is evaluated.
 * The run goes through the trainer, so the folder is an ordinary run (kind 'range-test'), plus
 * `range-test.json` with the points and the suggested learning rates (see `suggest`).
 *
 * Isolation: each test builds its own model, optimizer and loader from the configuration and seed,
 * and disposes them at the end; nothing carries over into a later run in the same process.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from '../train/checkpoint.js';
import { RunStore, readMetrics } from '../train/runstore.js';
import { dataConfigOf, resolveTrainConfig, type TrainConfig } from '../train/config.js';
import { train, type TrainOptions, type TrainResult } from '../train/trainer.js';
import type { Hooks, StepLog } from '../train/hooks.js';
import { prepareData, type PreparedData } from '../data/index.js';
import { LosstopoError } from '../errors.js';
import { writeFileAtomic } from '../train/atomic.js';
import { firstDifference } from '../util/difference.js';

// --- defaults ------------------------------------------------------------------------------------
export const rangeTestDefaults = Object.freeze({
  /** LR at iteration 0 (the paper: 0). For mode 'exp' a 0 is replaced by fastai's 1e-7. */
  minLr: 0,
  /** LR reached at the last iteration. */
  maxLr: 3,
  /** Iterations of the sweep (the schedule's stepsize / max_iter). */
  iters: 1000,
  /** 'linear' (the paper, Caffe) or 'exp' (fastai lr_find). */
  mode: 'linear' as 'linear' | 'exp',
  /** Iterations between test evaluations. */
  evalEvery: 50,
  /** Images of the fixed class-balanced test subset evaluated every `evalEvery` iterations. */
  evalSize: 1000,
  /** Stop when the smoothed loss exceeds `divergeFactor` x its minimum (fastai's stop_div). */
  stopOnDivergence: false,
  /** fastai: 4 (smoothed loss > 4 x best). */
  divergeFactor: 4,
  /** Smoothing factor of the training loss (fastai AvgSmoothLoss: 0.98). */
  beta: 0.98,
  /** LR used for exp sweeps when minLr is 0 (fastai lr_find start_lr). */
  expStartLr: 1e-7,
});

export interface RangeTestConfig {
  /** Partial training configuration (model, data, optimizer, ...; keys of TrainConfig). Its schedule, maxIter, testInterval and testSize are set by the test. */
  train: Record<string, unknown>;
  minLr?: number;
  maxLr?: number;
  iters?: number;
  mode?: 'linear' | 'exp';
  evalEvery?: number;
  evalSize?: number;
  stopOnDivergence?: boolean;
  divergeFactor?: number;
  beta?: number;
  /** Checkpoint every K iterations (0: only at the end, or when interrupted) so a killed test can resume. */
  snapshot?: number;
}

export interface RangePoint {
  iter: number;
  lr: number;
  /** null for a non-finite loss, and for the final evaluation point past the last step. */
  trainLoss: number | null;
  smoothedLoss: number | null;
  testLoss?: number;
  testAccuracy?: number;
}

export interface Suggestion { lr: number; rule: string }
export interface Suggestions {
  /** CLR lower bound: where test accuracy starts rising (Smith 2015). */
  baseLr: Suggestion | null;
  /** CLR upper bound: where test accuracy stops rising or turns ragged. */
  maxLr: Suggestion | null;
  /** The alternative lower bound maxLr/4 .. maxLr/3. */
  baseLrFromMax: (Suggestion & { range: [number, number] }) | null;
  /** Peak of a one-cycle schedule. */
  oneCycleMaxLr: Suggestion | null;
  /** fastai 2.x valley: longest descending run of the smoothed loss. */
  valley: Suggestion | null;
  /** fastai 2.x steep: steepest descent of the smoothed loss against log LR. */
  steepest: Suggestion | null;
  /** fastai 2.x minimum: LR of the smoothed-loss minimum / 10. */
  minimum: Suggestion | null;
}

export interface RangeTestResult {
  status: TrainResult['status'];
  message?: string;
  runDir: string | null;
  config: TrainConfig;
  /** Why the test stopped early (divergence rule), when it did. */
  stopReason?: string;
  points: RangePoint[];
  suggestions: Suggestions;
}

// --- configuration -------------------------------------------------------------------------------
export function resolveRangeTest(c: RangeTestConfig): { train: TrainConfig; opts: Required<Omit<RangeTestConfig, 'train'>> } {
  const d = rangeTestDefaults;
  const o = {
    minLr: c.minLr ?? d.minLr, maxLr: c.maxLr ?? d.maxLr, iters: c.iters ?? d.iters, mode: c.mode ?? d.mode,
    evalEvery: c.evalEvery ?? d.evalEvery, evalSize: c.evalSize ?? d.evalSize, stopOnDivergence: c.stopOnDivergence ?? d.stopOnDivergence,
    divergeFactor: c.divergeFactor ?? d.divergeFactor, beta: c.beta ?? d.beta, snapshot: c.snapshot ?? 0,
  };
  if (!(o.beta >= 0 && o.beta < 1)) throw new LosstopoError({ code: 'invalid_config', path: 'beta', received: String(o.beta) }, `expected a smoothing factor in [0, 1), received ${o.beta}`);
  if (!(o.divergeFactor > 1)) throw new LosstopoError({ code: 'invalid_config', path: 'divergeFactor', received: String(o.divergeFactor) }, `expected a factor > 1, received ${o.divergeFactor}`);
  const baseLr = o.mode === 'exp' && o.minLr === 0 ? d.expStartLr : o.minLr;
  const raw: Record<string, unknown> = {
    ...c.train,
    schedule: { policy: 'range', baseLr, maxLr: o.maxLr, maxIter: o.iters, stepMode: o.mode },
    maxIter: o.iters, testInterval: o.evalEvery, testSize: o.evalSize, snapshot: o.snapshot,
  };
  return { train: resolveTrainConfig(raw, 'range test'), opts: o };
}

// --- smoothing and the stop rule -----------------------------------------------------------------
/** fastai's AvgSmoothLoss: val = beta*val + (1-beta)*loss, reported as val / (1 - beta^count). */
export function smoothLosses(losses: readonly number[], beta: number = rangeTestDefaults.beta): number[] {
  let val = 0;
  return losses.map((l, i) => { val = beta * val + (1 - beta) * l; return val / (1 - beta ** (i + 1)); });
}

/** The hook that records every step, smooths the loss and (optionally) stops on divergence. */
function rangeHook(points: RangePoint[], opts: { beta: number; stopOnDivergence: boolean; divergeFactor: number }, state: { stopReason?: string }): Hooks {
  let val = 0, count = 0, best = Infinity;
  const byIter = new Map<number, RangePoint>();
  return {
    onStepEnd(log: StepLog) {
      count++;
      val = opts.beta * val + (1 - opts.beta) * log.loss;
      const smoothed = val / (1 - opts.beta ** count);
      const existing = byIter.get(log.iter);
      const p: RangePoint = { ...(existing ?? {}), iter: log.iter, lr: log.lr, trainLoss: Number.isFinite(log.loss) ? log.loss : null, smoothedLoss: Number.isFinite(smoothed) ? smoothed : null };
      if (existing) Object.assign(existing, p); else { points.push(p); byIter.set(log.iter, p); }
      if (Number.isFinite(smoothed) && smoothed < best) best = smoothed;
    },
    onEvalEnd(log) {
      if (log.split !== 'test') return;
      let p = byIter.get(log.iter);
      if (!p) { p = { iter: log.iter, lr: NaN, trainLoss: null, smoothedLoss: null }; points.push(p); byIter.set(log.iter, p); }
      p.testLoss = log.loss; p.testAccuracy = log.accuracy;
    },
    shouldStop() {
      if (!opts.stopOnDivergence || count === 0) return undefined;
      const smoothed = val / (1 - opts.beta ** count);
      if (Number.isNaN(smoothed) || smoothed > opts.divergeFactor * best) {
        state.stopReason = `smoothed loss ${smoothed.toPrecision(4)} > ${opts.divergeFactor} x its minimum ${best.toPrecision(4)} (stop on divergence)`;
        return state.stopReason;
      }
      return undefined;
    },
  };
}

// --- suggestions ---------------------------------------------------------------------------------
/** Centred moving average over `w` points (shrinking at the ends). */
export function movingAverage(v: readonly number[], w = 3): number[] {
  const h = Math.floor(w / 2);
  return v.map((_, i) => {
    let s = 0, n = 0;
    for (let j = Math.max(0, i - h); j <= Math.min(v.length - 1, i + h); j++) { s += v[j]!; n++; }
    return s / n;
  });
}

export const suggestionRules = Object.freeze({
  baseLr: 'CLR base (Smith 2015): on the test accuracy smoothed by a centred 3-point moving average, the first LR where accuracy, smoothed and as measured, exceeds chance + 10% of (peak - chance)',
  maxLr: 'CLR max (Smith 2015): on the same smoothed curve, from the base on, the LR of the running maximum just before the first drop of more than max(0.02, 10% of (peak - chance)) below it (accuracy stops rising or turns ragged); without such a drop, the LR of the peak',
  baseLrFromMax: 'CLR base alternative (Smith 2015): maxLr/4 .. maxLr/3 (lr is maxLr/3)',
  oneCycleMaxLr: 'one-cycle peak (Smith 2018, super-convergence): the CLR max, the largest LR before accuracy falls',
  valley: 'fastai 2.x valley: longest strictly decreasing subsequence of the smoothed loss (first 10% and last 5 points dropped, cut at the first NaN); its start + 1/3 + 1/6 of its length',
  steepest: 'fastai 2.x steep: LR of the most negative slope d(smoothed loss)/d(log LR) (first 10% and last 5 points dropped, LR > 0 only)',
  minimum: 'fastai 2.x minimum: LR of the smoothed-loss minimum / 10',
});

/** fastai's lr_find window: drop the first 10% and the last 5 points, cut at the first NaN. */
function fastaiWindow(lrs: readonly number[], losses: readonly (number | null)[]): { lrs: number[]; losses: number[] } {
  const n = lrs.length;
  const start = Math.floor(n / 10), end = Math.max(start, n - 5);
  let l = lrs.slice(start, end), s = losses.slice(start, end);
  const nan = s.findIndex((v) => v === null || !Number.isFinite(v));
  if (nan >= 0) { l = l.slice(0, nan); s = s.slice(0, nan); }
  return { lrs: l, losses: s as number[] };
}

/** fastai 2.x `valley` on (lrs, smoothed losses) already windowed; returns the index. */
export function valleyIndex(losses: readonly number[]): number | null {
  const n = losses.length;
  if (n < 2) return null;
  let maxStart = 0, maxEnd = 0;
  const lds = new Array<number>(n).fill(1);
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (losses[i]! < losses[j]! && lds[i]! < lds[j]! + 1) lds[i] = lds[j]! + 1;
      if (lds[maxEnd]! < lds[i]!) { maxEnd = i; maxStart = maxEnd - lds[maxEnd]!; }
    }
  }
  const sections = (maxEnd - maxStart) / 3;
  return Math.min(n - 1, Math.max(0, maxStart + Math.trunc(sections) + Math.trunc(sections / 2)));
}

/** fastai 2.x `steep` (on windowed data, lr > 0): index of the most negative slope against log LR. */
export function steepestIndex(lrs: readonly number[], losses: readonly number[]): number | null {
  let best: number | null = null, bestG = Infinity;
  for (let i = 0; i + 1 < lrs.length; i++) {
    if (!(lrs[i]! > 0) || !(lrs[i + 1]! > lrs[i]!)) continue;
    const g = (losses[i + 1]! - losses[i]!) / (Math.log(lrs[i + 1]!) - Math.log(lrs[i]!));
    if (g < bestG) { bestG = g; best = i; }
  }
  return best;
}

/** CLR bounds from the test-accuracy curve (points in LR order); see suggestionRules. */
export function clrBounds(lrs: readonly number[], accs: readonly number[], classes: number): { base: number; max: number } | null {
  if (accs.length < 2) return null;
  const chance = 1 / classes;
  const s = movingAverage(accs, 3);
  const peak = Math.max(...s);
  if (!(peak > chance + 0.01)) return null; // never clearly above chance: nothing to suggest
  const rise = chance + 0.1 * (peak - chance);
  // The measured point must have risen too: with coarse evaluations the centred average lifts the
  // untrained first point above the threshold on its neighbour's strength alone.
  const b = s.findIndex((a, i) => a > rise && accs[i]! > rise);
  if (b < 0) return null;
  const drop = Math.max(0.02, 0.1 * (peak - chance));
  let runMax = s[b]!, runIdx = b;
  for (let i = b + 1; i < s.length; i++) {
    if (s[i]! > runMax) { runMax = s[i]!; runIdx = i; } else if (s[i]! < runMax - drop) return { base: lrs[b]!, max: lrs[runIdx]! };
  }
  const pk = s.indexOf(peak);
  return { base: lrs[b]!, max: lrs[Math.max(pk, b)]! };
}

/** All suggestions from the points of a range test. */
export function suggest(points: readonly RangePoint[], classes: number): Suggestions {
  const train = points.filter((p) => Number.isFinite(p.lr));
  const evals = points.filter((p) => p.testAccuracy !== undefined && Number.isFinite(p.lr)).sort((a, b) => a.lr - b.lr);
  const bounds = clrBounds(evals.map((p) => p.lr), evals.map((p) => p.testAccuracy!), classes);
  const r = suggestionRules;
  const w = fastaiWindow(train.map((p) => p.lr), train.map((p) => p.smoothedLoss));
  const vi = valleyIndex(w.losses);
  const si = steepestIndex(w.lrs, w.losses);
  let mi = -1;
  for (let i = 0; i < w.losses.length; i++) if (mi < 0 || w.losses[i]! < w.losses[mi]!) mi = i;
  return {
    baseLr: bounds ? { lr: bounds.base, rule: r.baseLr } : null,
    maxLr: bounds ? { lr: bounds.max, rule: r.maxLr } : null,
    baseLrFromMax: bounds ? { lr: bounds.max / 3, range: [bounds.max / 4, bounds.max / 3], rule: r.baseLrFromMax } : null,
    oneCycleMaxLr: bounds ? { lr: bounds.max, rule: r.oneCycleMaxLr } : null,
    valley: vi !== null ? { lr: w.lrs[vi]!, rule: r.valley } : null,
    steepest: si !== null ? { lr: w.lrs[si]!, rule: r.steepest } : null,
    minimum: mi >= 0 ? { lr: w.lrs[mi]! / 10, rule: r.minimum } : null,
  };
}

// --- run -----------------------------------------------------------------------------------------
/** As the trainer's (`resume`: continue the unfinished range test in that folder, same configuration). */
export type RangeTestRunOptions = Pick<TrainOptions, 'out' | 'resume' | 'hooks' | 'data' | 'signal' | 'handleSignals'>;

/**
 * Feeds a resumed test's hook the rows logged before its checkpoint, so the points, the smoothed
 * loss and the divergence rule continue as if uninterrupted. Returns the checkpoint's iteration.
 */
function replayBeforeResume(dir: string, cfg: TrainConfig, hook: Hooks): number {
  const rec = RunStore.readRecord(dir);
  if (rec.kind !== 'range-test') throw new LosstopoError({ code: 'run_error', file: dir }, `holds a ${rec.kind} run, not a range test`);
  const changed = firstDifference(resolveTrainConfig(rec.config as Record<string, unknown>, `${dir}/run.json`), cfg, 1);
  if (changed) throw new LosstopoError({ code: 'run_error', file: `${dir}/run.json`, path: changed }, 'differs from the range test being resumed (a resume must use the same configuration)');
  const startIter = listCheckpoints(join(dir, 'checkpoints'), true).at(-1);
  if (startIter === undefined) throw new LosstopoError({ code: 'run_error', file: dir }, 'has no complete checkpoint to resume from; remove the folder to run the test again');
  for (const row of readMetrics(dir)) {
    if (row.iter >= startIter) continue; // logged after the checkpoint: recomputed by the resume
    if ('split' in row) { if (row.split === 'test') hook.onEvalEnd?.({ ...row, count: 0 }); }
    else hook.onStepEnd?.({ iter: row.iter, lr: row.lr, momentum: row.momentum ?? 0, loss: Number(row.trainLoss), n: 0 });
  }
  return startIter;
}

/** One range test (its own model and optimizer); writes range-test.json into the run folder. */
export async function runRangeTest(config: RangeTestConfig, o: RangeTestRunOptions = {}): Promise<RangeTestResult> {
  const { train: cfg, opts } = resolveRangeTest(config);
  const points: RangePoint[] = [];
  const state: { stopReason?: string } = {};
  const hook = rangeHook(points, opts, state);
  if (o.resume) replayBeforeResume(o.resume, cfg, hook);
  let classes = 10;
  const r = await train(cfg, {
    ...(o.resume ? { resume: o.resume } : o.out ? { out: o.out } : {}), ...(o.data ? { data: o.data } : {}), ...(o.signal ? { signal: o.signal } : {}),
    handleSignals: o.handleSignals ?? false, kind: 'range-test',
    hooks: [hook, ...(o.hooks ?? [])],
    onSetup: (s) => { classes = s.data.classes.length; },
  });
  // The final evaluation (after the last update) has no step of its own: give it the LR of the schedule there.
  const sched = r.setup.schedule;
  for (const p of points) if (!Number.isFinite(p.lr)) p.lr = sched(p.iter).lr;
  points.sort((a, b) => a.iter - b.iter);
  const suggestions = suggest(points, classes);
  const result: RangeTestResult = {
    status: r.status, ...(r.message ? { message: r.message } : {}), runDir: r.runDir, config: cfg,
    ...(state.stopReason ? { stopReason: state.stopReason } : {}), points, suggestions,
  };
  if (r.runDir) writeFileAtomic(join(r.runDir, 'range-test.json'), JSON.stringify(rangeTestDoc(result), null, 1) + '\n');
  return result;
}

/** The range-test.json document. */
export function rangeTestDoc(r: RangeTestResult): Record<string, unknown> {
  return { status: r.status, ...(r.message ? { message: r.message } : {}), ...(r.stopReason ? { stopReason: r.stopReason } : {}), model: r.config.model, points: r.points, suggestions: r.suggestions };
}

/**
 * Several range tests (one per model), each in `out/<model>`, on data prepared once. With
 * `continueUnfinished`, a model whose folder holds an interrupted test resumes it (and one whose
 * test completed or diverged is not run again: it is absent from the result).
 */
export async function runRangeTests(models: readonly string[], config: RangeTestConfig, o: RangeTestRunOptions & { continueUnfinished?: boolean } = {}): Promise<RangeTestResult[]> {
  const out: RangeTestResult[] = [];
  const { continueUnfinished, ...rest } = o;
  const data = o.data ?? await prepareData(dataConfigOf(resolveRangeTest({ ...config, train: { ...config.train, model: models[0] } }).train));
  for (const model of models) {
    const dir = o.out ? join(o.out, model) : undefined;
    const started = dir !== undefined && continueUnfinished === true && existsSync(join(dir, 'run.json'));
    if (started && ['completed', 'diverged'].includes(RunStore.readRecord(dir).status)) continue;
    const r = await runRangeTest({ ...config, train: { ...config.train, model } }, { ...rest, ...(dir ? (started ? { resume: dir } : { out: dir }) : {}), data });
    out.push(r);
  }
  return out;
}
