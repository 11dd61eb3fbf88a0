/**
 * Linear network interpolation — Smith & Topin (2017) Fig. 3, after Goodfellow et al. (2014) and
 * Im et al. (2016): the network (1 - alpha) * A + alpha * B for alpha from -0.5 to 1.5, evaluated on
 * training and test data at every alpha.
 *
 * Expected result: between two states of one regular training run (Fig. 3a) the loss is a single
 * convex bowl whose minimum lies near the centre; between the solutions at the ends of two CLR
 * cycles (Fig. 3b) there is a peak (barrier) between them, the training-loss minima sit at alpha 0
 * and 1, and the test-loss minima are slightly offset towards the centre.
 *
 * BatchNorm running statistics, three policies (`bn`):
 *   interpolate  running mean/var interpolated with the weights (what Caffe does; the paper)
 *   recompute    running stats reset and re-estimated at each alpha on training images with a
 *                cumulative average (momentum = 1/k for batch k, as PyTorch's SWA update_bn)
 *   train        batch statistics at evaluation (train-mode BN, no running stats)
 * With `interpolate`, extrapolated running variances (alpha outside [0, 1]) are clamped at 0.
 * Evaluation is inference only (no autograd), in large batches. Checkpoints are self-describing:
 * their metadata holds the model and data configuration, so only the files are needed.
 */
import { join } from 'node:path';
import { BatchNorm2d, noGrad, tidy, setThreads } from '../engine/index.js';
import { BatchLoader, makeBatchSpec, prepareData, subsetTest, type ImageSet, type PreparedData, type ResolvedDataConfig } from '../data/index.js';
import { buildModel, type ModelConfig } from '../models/registry.js';
import type { ResNet } from '../models/resnet.js';
import { batchTensors, evaluate, type EvalResult } from '../train/evaluate.js';
import { listCheckpoints, checkpointFile } from '../train/checkpoint.js';
import { inRunFolder } from '../train/runstore.js';
import { LosstopoError } from '../errors.js';
import { checkCompatible, disposeState, loadMixed, readState, type HostState } from './mix.js';

// --- defaults ------------------------------------------------------------------------------------
export const bnPolicies = ['interpolate', 'recompute', 'train'] as const;
export type BnPolicy = (typeof bnPolicies)[number];

export const interpolationDefaults = Object.freeze({
  /** The paper's sweep: -0.5 to 1.5. */
  alphas: { start: -0.5, stop: 1.5, step: 0.05 },
  /** A coarser grid for --all-pairs (only [0, 1] matters for the barrier). */
  pairAlphas: { start: 0, stop: 1, step: 0.1 },
  bn: 'interpolate' as BnPolicy,
  /** Images of the fixed class-balanced training subset evaluated at each alpha (and used by bn recompute). */
  trainSize: 5000,
  /** Evaluation batch (images); also the batch of bn recompute and bn train. */
  evalBatch: 500,
  /** Loss above the minimum that still counts as flat (flatness width). */
  flatEps: 0.1,
  /** Split whose loss the all-pairs barrier matrix uses. */
  pairSplit: 'train' as 'train' | 'test',
  threads: 2,
});

export interface InterpolationConfig {
  from: string;
  to: string;
  alphas?: number[];
  bn?: BnPolicy;
  /** Overrides of the checkpoints' data configuration (dataset, dataDir, testSize, ...). */
  data?: Partial<ResolvedDataConfig>;
  trainSize?: number;
  evalBatch?: number;
  flatEps?: number;
  threads?: number;
}

export interface InterpolationPoint { alpha: number; split: 'train' | 'test'; loss: number; accuracy: number }
export interface Barrier { height: number; alpha: number }
export interface Flatness { width: number; left: number; right: number; bounded: boolean }
export interface CurveSummary { barrier: Barrier; minAlpha: number; minLoss: number; flatness: Flatness }

export interface InterpolationResult {
  from: string;
  to: string;
  bn: BnPolicy;
  points: InterpolationPoint[];
  derived: { train: CurveSummary; test: CurveSummary };
  outDir: string | null;
}

/** `start:stop:step` (stop included, rounded to the step's grid) or a comma list. */
export function parseAlphas(spec: string, flag = '--alphas'): number[] {
  const bad = (): LosstopoError => new LosstopoError({ code: 'invalid_option', path: flag, received: spec }, `expected start:stop:step (e.g. -0.5:1.5:0.05) or a comma list of numbers, received ${JSON.stringify(spec)}`);
  if (spec.includes(':')) {
    const parts = spec.split(':').map(Number);
    if (parts.length !== 3 || parts.some((v) => !Number.isFinite(v)) || !(parts[2]! > 0) || parts[1]! < parts[0]!) throw bad();
    return alphaGrid({ start: parts[0]!, stop: parts[1]!, step: parts[2]! });
  }
  const v = spec.split(',').filter((s) => s.trim() !== '').map(Number);
  if (!v.length || v.some((x) => !Number.isFinite(x))) throw bad();
  return v;
}

export function alphaGrid(g: { start: number; stop: number; step: number }): number[] {
  const n = Math.round((g.stop - g.start) / g.step + 1e-9);
  return Array.from({ length: n + 1 }, (_, i) => Math.round((g.start + i * g.step) * 1e10) / 1e10);
}

// --- curve analysis (pure) -----------------------------------------------------------------------
type Curve = readonly { alpha: number; loss: number }[];
const sorted = (c: Curve): { alpha: number; loss: number }[] => [...c].sort((a, b) => a.alpha - b.alpha);
const near = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;

/**
 * Barrier height: the largest amount by which the loss on [0, 1] rises above the straight line
 * between the endpoint losses (0 when the curve stays below it, as a convex one does). The curve
 * must hold alpha 0 and 1.
 */
export function barrierHeight(curve: Curve): Barrier {
  const c = sorted(curve);
  const a = c.find((p) => near(p.alpha, 0)), b = c.find((p) => near(p.alpha, 1));
  if (!a || !b) throw new LosstopoError({ code: 'invalid_config', path: 'alphas' }, 'the barrier needs alpha 0 and alpha 1 on the grid');
  let best: Barrier = { height: 0, alpha: 0 };
  for (const p of c) {
    if (p.alpha < -1e-9 || p.alpha > 1 + 1e-9) continue;
    const h = p.loss - ((1 - p.alpha) * a.loss + p.alpha * b.loss);
    if (h > best.height) best = { height: h, alpha: p.alpha };
  }
  return best;
}

/** Alpha of the lowest loss (the paper: the test-loss minimum offset towards the centre). */
export function minimumAlpha(curve: Curve): { alpha: number; loss: number } {
  let m = { alpha: NaN, loss: Infinity };
  for (const p of sorted(curve)) if (p.loss < m.loss) m = { alpha: p.alpha, loss: p.loss };
  return m;
}

/**
 * Flatness width at +eps: the length of the alpha interval around the minimum where the loss stays
 * within `eps` of it, with the crossings found by linear interpolation between grid points;
 * `bounded` is false when the interval reaches the end of the grid.
 */
export function flatnessWidth(curve: Curve, eps: number): Flatness {
  const c = sorted(curve);
  if (!c.length) return { width: 0, left: NaN, right: NaN, bounded: false };
  let i = c.findIndex((p) => Number.isFinite(p.loss));
  if (i < 0) return { width: 0, left: NaN, right: NaN, bounded: false };
  for (let k = i + 1; k < c.length; k++) if (c[k]!.loss < c[i]!.loss) i = k;
  const level = c[i]!.loss + eps;
  const cross = (p: { alpha: number; loss: number }, q: { alpha: number; loss: number }): number => p.alpha + ((level - p.loss) / (q.loss - p.loss)) * (q.alpha - p.alpha);
  let l = i, r = i;
  while (l > 0 && c[l - 1]!.loss <= level) l--;
  while (r < c.length - 1 && c[r + 1]!.loss <= level) r++;
  // A non-finite neighbour (e.g. a NaN loss far out) has no crossing: the interval ends at the grid point.
  const left = l > 0 ? (Number.isFinite(c[l - 1]!.loss) ? cross(c[l]!, c[l - 1]!) : c[l]!.alpha) : c[0]!.alpha;
  const right = r < c.length - 1 ? (Number.isFinite(c[r + 1]!.loss) ? cross(c[r]!, c[r + 1]!) : c[r]!.alpha) : c[c.length - 1]!.alpha;
  return { width: right - left, left, right, bounded: l > 0 && r < c.length - 1 };
}

export function summarizeCurve(curve: Curve, eps: number): CurveSummary {
  const m = minimumAlpha(curve);
  // Without alpha 0 and 1 on the grid there is no barrier to measure (NaN, null in JSON).
  const ends = curve.some((p) => near(p.alpha, 0)) && curve.some((p) => near(p.alpha, 1));
  return { barrier: ends ? barrierHeight(curve) : { height: NaN, alpha: NaN }, minAlpha: m.alpha, minLoss: m.loss, flatness: flatnessWidth(curve, eps) };
}

// --- checkpoints and data ------------------------------------------------------------------------

export interface EvalSets { data: PreparedData; train: ImageSet; test: ImageSet }

export async function prepareEvalSets(meta: ResolvedDataConfig, overrides: Partial<ResolvedDataConfig> = {}, trainSize: number = interpolationDefaults.trainSize): Promise<EvalSets> {
  const cfg = { ...meta, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) } as ResolvedDataConfig;
  if (overrides.dataset && overrides.dataset !== meta.dataset && overrides.augmentation === undefined) (cfg as { augmentation?: unknown }).augmentation = undefined;
  const data = await prepareData(JSON.parse(JSON.stringify(cfg)) as ResolvedDataConfig);
  return { data, train: subsetTest(data.train, Math.min(trainSize, data.train.count)), test: data.test };
}

// --- evaluation under a BN policy ----------------------------------------------------------------
const loaderOf = (data: PreparedData, set: ImageSet, batch: number): BatchLoader =>
  new BatchLoader(makeBatchSpec(set, data.transforms.eval, { batchSize: batch, train: false, labelType: 'int64' }));

/** Resets every BN's running stats and re-estimates them on `set` with a cumulative average. */
export function recomputeBatchNorm(model: ResNet, data: PreparedData, set: ImageSet, batch: number): void {
  const bns = [...model.namedModules()].map(([, m]) => m).filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
  const saved = bns.map((m) => m.cfg.momentum);
  const wasTraining = model.training;
  noGrad(() => { for (const m of bns) { m.runningMean.zero_(); m.runningVar.fill_(1); } });
  model.train();
  try {
    let k = 0;
    noGrad(() => {
      for (const b of loaderOf(data, set, batch)) {
        k++;
        for (const m of bns) m.cfg.momentum = 1 / k;
        tidy(() => { const { x } = batchTensors(b, set); model.forward(x); });
      }
    });
  } finally {
    bns.forEach((m, i) => { m.cfg.momentum = saved[i]!; });
    model.train(wasTraining);
  }
}

/** Evaluates the model as loaded, under a BN policy, on the given splits. */
export function evaluateWithPolicy(model: ResNet, sets: EvalSets, bn: BnPolicy, batch: number, splits: readonly ('train' | 'test')[] = ['train', 'test']): Map<'train' | 'test', EvalResult> {
  if (bn === 'recompute') recomputeBatchNorm(model, sets.data, sets.train, batch);
  const out = new Map<'train' | 'test', EvalResult>();
  for (const s of splits) {
    const set = sets[s];
    const loader = loaderOf(sets.data, set, batch);
    out.set(s, evaluate(model, loader, set, { batchStatistics: bn === 'train' }));
  }
  return out;
}

/** The interpolation sweep between two loaded states. */
function sweep(model: ResNet, a: HostState, b: HostState, alphas: readonly number[], sets: EvalSets, bn: BnPolicy, batch: number, splits: readonly ('train' | 'test')[], onPoint?: (p: InterpolationPoint) => void): InterpolationPoint[] {
  const points: InterpolationPoint[] = [];
  for (const alpha of alphas) {
    loadMixed(model, a, b, alpha);
    const r = evaluateWithPolicy(model, sets, bn, batch, splits);
    for (const s of splits) {
      const e = r.get(s)!;
      const p: InterpolationPoint = { alpha, split: s, loss: e.loss, accuracy: e.accuracy };
      points.push(p);
      onPoint?.(p);
    }
  }
  return points;
}

// --- run -----------------------------------------------------------------------------------------
export interface InterpolationRunOptions { out?: string; onPoint?: (p: InterpolationPoint) => void; sets?: EvalSets }

export async function runInterpolation(c: InterpolationConfig, o: InterpolationRunOptions = {}): Promise<InterpolationResult> {
  const d = interpolationDefaults;
  const alphas = c.alphas ?? alphaGrid(d.alphas);
  const bn = c.bn ?? d.bn;
  const batch = c.evalBatch ?? d.evalBatch;
  const eps = c.flatEps ?? d.flatEps;
  setThreads(c.threads ?? d.threads);
  const a = readState(c.from);
  const b = readState(c.to);
  const model = buildModel(a.meta.model, 0);
  try {
    return await inRunFolder(o.out, async (open) => {
      checkCompatible(a, b, c.from, c.to);
      const sets = o.sets ?? await prepareEvalSets(a.meta.data, c.data, c.trainSize ?? d.trainSize);
      const resolved = { from: c.from, to: c.to, alphas, bn, evalBatch: batch, flatEps: eps, trainSize: sets.train.count, testSize: sets.test.count, data: sets.data.config, model: a.meta.model };
      const store = open('interpolation', resolved, a.meta.data.seed ?? 0);
      const lines: string[] = [];
      const points = sweep(model, a, b, alphas, sets, bn, batch, ['train', 'test'], (p) => { lines.push(JSON.stringify(p)); o.onPoint?.(p); });
      const curve = (s: 'train' | 'test'): Curve => points.filter((p) => p.split === s);
      const derived = { train: summarizeCurve(curve('train'), eps), test: summarizeCurve(curve('test'), eps) };
      store?.finish('interpolation.jsonl', lines.join('\n') + '\n', 'completed', derived as unknown as Record<string, unknown>);
      return { from: c.from, to: c.to, bn, points, derived, outDir: store?.dir ?? null };
    });
  } finally {
    model.dispose();
    disposeState(a); disposeState(b);
  }
}

export interface AllPairsConfig extends Omit<InterpolationConfig, 'from' | 'to'> { runDir: string; split?: 'train' | 'test' }
export interface AllPairsResult { labels: string[]; files: string[]; split: 'train' | 'test'; alphas: number[]; barrier: number[][]; minAlpha: number[][]; outDir: string | null }

/** Interpolates every pair of a run's checkpoints: the barrier matrix (symmetric, zero diagonal). */
export async function runAllPairs(c: AllPairsConfig, o: { out?: string; onPair?: (i: number, j: number, b: Barrier) => void } = {}): Promise<AllPairsResult> {
  const d = interpolationDefaults;
  const iters = listCheckpoints(join(c.runDir, 'checkpoints'));
  if (iters.length < 2) throw new LosstopoError({ code: 'run_error', file: c.runDir }, `has ${iters.length} checkpoint(s); --all-pairs needs at least 2 (train with --snapshot N)`);
  const files = iters.map((i) => checkpointFile(join(c.runDir, 'checkpoints'), i));
  const labels = iters.map((i) => `iter-${i}`);
  const alphas = c.alphas ?? alphaGrid(d.pairAlphas);
  const bn = c.bn ?? d.bn, batch = c.evalBatch ?? d.evalBatch, split = c.split ?? d.pairSplit;
  setThreads(c.threads ?? d.threads);
  const states = files.map(readState);
  const model = buildModel(states[0]!.meta.model, 0);
  try {
    return await inRunFolder(o.out, async (open) => {
      for (let i = 1; i < states.length; i++) checkCompatible(states[0]!, states[i]!, files[0]!, files[i]!);
      const sets = await prepareEvalSets(states[0]!.meta.data, c.data, c.trainSize ?? d.trainSize);
      const n = files.length;
      const barrier = Array.from({ length: n }, () => new Array<number>(n).fill(0));
      const minAlpha = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0 : NaN)));
      const store = open('interpolation', { allPairs: c.runDir, files, alphas, bn, split, evalBatch: batch, data: sets.data.config }, states[0]!.meta.data.seed ?? 0);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
        const pts = sweep(model, states[i]!, states[j]!, alphas, sets, bn, batch, [split]);
        const bh = barrierHeight(pts);
        barrier[i]![j] = barrier[j]![i] = bh.height;
        const m = minimumAlpha(pts).alpha;
        minAlpha[i]![j] = m; minAlpha[j]![i] = 1 - m;
        o.onPair?.(i, j, bh);
      }
      store?.finish('all-pairs.json', JSON.stringify({ labels, files, split, bn, alphas, barrier, minAlpha }, null, 1) + '\n', 'completed',
        { pairs: (n * (n - 1)) / 2, maxBarrier: Math.max(...barrier.flat()) });
      return { labels, files, split, alphas, barrier, minAlpha, outDir: store?.dir ?? null };
    });
  } finally {
    model.dispose();
    states.forEach(disposeState);
  }
}
