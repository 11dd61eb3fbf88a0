/**
 * Curvature probes — beyond the paper (issue 6). Smith & Topin read the loss topology off linear
 * interpolations (Fig. 3); these probes measure it locally at a checkpoint:
 *
 *   hessian   the top eigenvalue of the Hessian of the training loss (power iteration on
 *             Hessian-vector products by double backward, Pearlmutter 1994), at a checkpoint and,
 *             with `along`, at points of the interpolation line between two checkpoints;
 *   slice     1-D and 2-D random-direction slices of loss and accuracy with filter normalisation
 *             (Li et al. 2018, "Visualizing the loss landscape of neural nets").
 *
 * Expected result: solutions reached with large learning rates (CLR, super-convergence) sit in
 * flatter regions than step-decay solutions — a smaller top eigenvalue and wider slices — and the
 * top eigenvalue rises towards the barrier between two CLR-cycle solutions.
 *
 * Choices (the papers leave them open or differ):
 *   - The Hessian is that of the mean cross-entropy over a fixed set of training images (the first
 *     `batches * batch` images of the class-balanced training subset, no augmentation), computed in
 *     EVAL mode: BatchNorm uses the checkpoint's running statistics, so the loss is a deterministic
 *     function of the weights alone (in train mode the batch statistics would make it depend on the
 *     batch composition, and the forward pass would move the running statistics). No weight decay.
 *   - Power iteration returns the eigenvalue of largest MAGNITUDE (the Rayleigh quotient v'Hv of a
 *     unit v); near a minimum that is the top positive one. It stops when the Rayleigh quotient
 *     changes by less than `tol` relative to its value, or after `iters` Hessian-vector products.
 *     Vectors are normalised by the global L2 norm across all parameter tensors; the start is
 *     N(0, 1) from a seeded generator.
 *   - Directions: N(0, 1) from a seeded generator, drawn for every parameter in state_dict order;
 *     each filter (slice along dim 0) of a weight with rank >= 2 (conv and linear weights) is
 *     rescaled to the norm of the same filter of the weights; rank-1 parameters (biases, BN weight
 *     and bias) are set to 0 in the direction — Li et al.'s "ignore biases and BN" option. BN running
 *     statistics are the checkpoint's at every grid point. The 2-D slice uses the first and the
 *     second direction drawn from the same seed.
 *   - Along a line, every float tensor (running statistics included) is (1 - alpha) A + alpha B,
 *     running variances clamped at 0: interpolation's `--bn interpolate` policy.
 */
import { join } from 'node:path';
import {
  Generator, Tensor, crossEntropy, disposeAll, enableGrad, grad, keep, noGrad, randn, setThreads, tidy, type Module,
} from '../engine/index.js';
import { BatchLoader, makeBatchSpec, subsetTest, type ImageSet, type PreparedData, type ResolvedDataConfig } from '../data/index.js';
import { buildModel } from '../models/registry.js';
import { batchTensors, evaluate, type EvalResult } from '../train/evaluate.js';
import type { CheckpointMeta } from '../train/checkpoint.js';
import { inRunFolder } from '../train/runstore.js';
import { LosstopoError } from '../errors.js';
import { disposeState, loadMixed, readState, type HostState } from './mix.js';
import { alphaGrid, flatnessWidth, prepareEvalSets, type EvalSets, type Flatness } from './interpolation.js';

// --- defaults ------------------------------------------------------------------------------------
export const curvatureDefaults = Object.freeze({
  /** Hessian: training batches of the fixed loss (images: batches * batch). */
  batches: 4,
  /** Hessian: images per batch (each batch's double-backward graph is held alone). */
  batch: 128,
  /** Hessian: power iterations (one Hessian-vector product over all batches each). */
  iters: 20,
  /** Hessian: stop when the Rayleigh quotient changes by less than this, relative. */
  tol: 1e-3,
  /** Seed of the power-iteration start and of the slice directions. */
  seed: 0,
  /** Hessian along a line: the alpha grid. */
  alphas: { start: 0, stop: 1, step: 0.25 },
  /** Slice: 1 or 2 directions. */
  dims: 1 as 1 | 2,
  /** Slice: step grid in units of the filter-normalised direction (Li et al.: -1..1). */
  range: { start: -1, stop: 1, step: 0.1 },
  /** Slice: images of the fixed class-balanced training subset evaluated at each point. */
  trainSize: 1000,
  /** Slice: images of the fixed class-balanced test subset (default: the checkpoint's, capped here). */
  testSize: 1000,
  /** Evaluation batch (images). */
  evalBatch: 500,
  /** Slice: loss above the minimum that still counts as flat (1-D flatness width). */
  flatEps: 0.1,
  threads: 2,
});

// --- Hessian-vector products and power iteration -------------------------------------------------
/** A scalar loss built from the parameters (called with autograd on). */
export type LossFn = () => Tensor;
/** One loss, or terms whose SUM is the loss (their Hessian-vector products are accumulated one term at a time). */
export type LossTerms = LossFn | readonly LossFn[];

const termsOf = (l: LossTerms): readonly LossFn[] => (typeof l === 'function' ? [l] : l);
const paramsOf = (m: Module | readonly Tensor[]): readonly Tensor[] => (Array.isArray(m) ? m : (m as Module).parameters());

/**
 * H v by double backward: g = d loss / d params with a graph, then d(sum_i g_i . v_i) / d params.
 * `v` has one tensor per parameter (same shapes); the result too (the caller owns it).
 */
export function hessianVectorProduct(target: Module | readonly Tensor[], lossOf: LossTerms, v: readonly Tensor[]): Tensor[] {
  const params = paramsOf(target);
  if (v.length !== params.length) throw new LosstopoError({ code: 'invalid_config', path: 'v' }, `expected ${params.length} tensors (one per parameter), received ${v.length}`);
  let acc: Tensor[] = [];
  for (const term of termsOf(lossOf)) {
    const prev = acc;
    acc = tidy(() => enableGrad(() => {
      const loss = term();
      const gs = grad([loss], [...params], { createGraph: true, allowUnused: true });
      let dot: Tensor | null = null;
      for (let i = 0; i < gs.length; i++) {
        const g = gs[i];
        if (!g) continue;
        const s = g.mul(v[i]!).sum();
        dot = dot ? dot.add(s) : s;
      }
      const hv = dot ? grad([dot], [...params], { allowUnused: true }) : params.map(() => null);
      return hv.map((h, i) => {
        const t = h ? h.detach() : v[i]!.mul(0);
        return prev.length ? prev[i]!.add(t) : t;
      });
    }));
    disposeAll(prev);
  }
  return acc.length ? acc : v.map((t) => t.mul(0));
}

const dotAll = (a: readonly Tensor[], b: readonly Tensor[]): number =>
  tidy(() => a.reduce((s, t, i) => s + t.to('float64').mul(b[i]!.to('float64')).sum().item(), 0));
const normAll = (a: readonly Tensor[]): number => Math.sqrt(dotAll(a, a));
const scaleAll = (a: readonly Tensor[], k: number): Tensor[] => a.map((t) => t.mul(k));

export interface PowerIterationOptions {
  iters?: number;
  tol?: number;
  seed?: number;
  /** Called after every Hessian-vector product with the Rayleigh quotient. */
  onIter?: (iter: number, eigenvalue: number) => void;
}

export interface EigenResult {
  /** The last Rayleigh quotient v'Hv (|v| = 1): the eigenvalue of largest magnitude. */
  eigenvalue: number;
  /** Hessian-vector products computed. */
  iterations: number;
  /** The relative change of the last step was below tol. */
  converged: boolean;
  /** The Rayleigh quotient after each product. */
  history: number[];
}

/**
 * Power iteration on H v for the loss `lossOf` of `params`. Start: N(0, 1) from Generator(seed),
 * normalised by the global L2 norm over all parameter tensors.
 */
export function topHessianEigenvalue(lossOf: LossTerms, params: readonly Tensor[], o: PowerIterationOptions = {}): EigenResult {
  const d = curvatureDefaults;
  const iters = o.iters ?? d.iters, tol = o.tol ?? d.tol;
  const gen = new Generator(o.seed ?? d.seed);
  const start = params.map((p) => randn(p.shape, gen, p.dtype));
  let v = scaleAll(start, 1 / normAll(start));
  disposeAll(start);
  const history: number[] = [];
  let converged = false;
  try {
    for (let k = 1; k <= iters; k++) {
      const hv = hessianVectorProduct(params, lossOf, v);
      const lambda = dotAll(v, hv);
      const n = normAll(hv);
      history.push(lambda);
      o.onIter?.(k, lambda);
      disposeAll(v);
      if (!(n > 0) || !Number.isFinite(n)) { v = hv; break; } // H v = 0 (or NaN): nothing to iterate on
      v = scaleAll(hv, 1 / n);
      disposeAll(hv);
      const prev = history[history.length - 2];
      if (prev !== undefined && Math.abs(lambda - prev) <= tol * Math.max(Math.abs(lambda), 1e-12)) { converged = true; break; }
    }
  } finally {
    disposeAll(v);
  }
  return { eigenvalue: history[history.length - 1] ?? NaN, iterations: history.length, converged, history };
}

/** A fixed batch of inputs and int64 labels, owned by the caller (see `fixedBatches`). */
export interface FixedBatch { x: Tensor; y: Tensor }

/** Loss terms of the mean cross-entropy over the batches: term k = sum CE of batch k / all images. */
export function crossEntropyTerms(model: Module, batches: readonly FixedBatch[]): LossFn[] {
  const total = batches.reduce((a, b) => a + b.y.size, 0);
  return batches.map((b) => () => crossEntropy(model.forward(b.x), b.y, 'sum').div(total));
}

/** The model's top Hessian eigenvalue on fixed batches, in eval mode (see the header); restores the mode. */
export function modelTopHessianEigenvalue(model: Module, batches: readonly FixedBatch[], o: PowerIterationOptions = {}): EigenResult {
  const was = model.training;
  model.eval();
  try { return topHessianEigenvalue(crossEntropyTerms(model, batches), model.parameters(), o); } finally { model.train(was); }
}

/** The first `count` images of `set` in batches of `batch`, eval transform, as kept tensors. */
export function fixedBatches(data: PreparedData, set: ImageSet, batch: number): FixedBatch[] {
  const out: FixedBatch[] = [];
  for (const b of new BatchLoader(makeBatchSpec(set, data.transforms.eval, { batchSize: batch, train: false, labelType: 'int64' }))) {
    const { x, y } = batchTensors(b, set);
    out.push({ x: keep(x), y: keep(y) });
  }
  return out;
}

// --- Hessian probe -------------------------------------------------------------------------------
export interface HessianProbeConfig {
  checkpoint: string;
  /** Interpolate towards this checkpoint and measure at each of `alphas`. */
  along?: string;
  alphas?: number[];
  batches?: number;
  batch?: number;
  iters?: number;
  tol?: number;
  seed?: number;
  data?: Partial<ResolvedDataConfig>;
  threads?: number;
}

export interface AlongPoint { alpha: number; eigenvalue: number; iterations: number; converged: boolean }

export interface HessianProbeResult extends EigenResult {
  kind: 'hessian';
  checkpoint: string;
  images: number;
  batches: number;
  batch: number;
  seed: number;
  along: { to: string; points: AlongPoint[] } | null;
  outDir: string | null;
}

interface HessianSetup { batches: FixedBatch[]; images: number; sets: EvalSets }

async function hessianSetup(meta: CheckpointMeta, c: { batches?: number; batch?: number; data?: Partial<ResolvedDataConfig> }): Promise<HessianSetup> {
  const d = curvatureDefaults;
  const nb = c.batches ?? d.batches, bs = c.batch ?? d.batch;
  const sets = await prepareEvalSets(meta.data, c.data ?? {}, nb * bs);
  return { batches: fixedBatches(sets.data, sets.train, bs), images: sets.train.count, sets };
}

function sweepLine(model: Module, a: HostState, b: HostState, alphas: readonly number[], batches: readonly FixedBatch[], o: PowerIterationOptions, onPoint?: (p: AlongPoint) => void): AlongPoint[] {
  return alphas.map((alpha) => {
    loadMixed(model, a, b, alpha);
    const r = modelTopHessianEigenvalue(model, batches, o);
    const p = { alpha, eigenvalue: r.eigenvalue, iterations: r.iterations, converged: r.converged };
    onPoint?.(p);
    return p;
  });
}

/** Top Hessian eigenvalue at (1 - alpha) A + alpha B for each alpha, on A's fixed training batches. */
export async function eigenvaluesAlongLine(fromCkpt: string, toCkpt: string, alphas: readonly number[],
  o: Omit<HessianProbeConfig, 'checkpoint' | 'along' | 'alphas'> & { onPoint?: (p: AlongPoint) => void } = {}): Promise<AlongPoint[]> {
  setThreads(o.threads ?? curvatureDefaults.threads);
  const a = readState(fromCkpt), b = readState(toCkpt);
  const model = buildModel(a.meta.model, 0);
  let setup: HessianSetup | null = null;
  try {
    if (JSON.stringify(a.meta.model) !== JSON.stringify(b.meta.model)) throw new LosstopoError({ code: 'invalid_file', file: toCkpt }, `has a different model configuration than ${fromCkpt}: cannot interpolate`);
    setup = await hessianSetup(a.meta, o);
    return sweepLine(model, a, b, alphas, setup.batches, o, o.onPoint);
  } finally {
    if (setup) for (const bt of setup.batches) disposeAll([bt.x, bt.y]);
    model.dispose(); disposeState(a); disposeState(b);
  }
}

export interface HessianRunOptions { out?: string; onIter?: (iter: number, eigenvalue: number) => void; onPoint?: (p: AlongPoint) => void }

/** The top eigenvalue at a checkpoint (and along a line with `along`), written to `out` when given. */
export async function runHessianProbe(c: HessianProbeConfig, o: HessianRunOptions = {}): Promise<HessianProbeResult> {
  const d = curvatureDefaults;
  const iters = c.iters ?? d.iters, tol = c.tol ?? d.tol, seed = c.seed ?? d.seed;
  setThreads(c.threads ?? d.threads);
  const a = readState(c.checkpoint);
  const b = c.along ? readState(c.along) : null;
  const model = buildModel(a.meta.model, 0);
  let setup: HessianSetup | null = null;
  try {
    return await inRunFolder(o.out, async (open) => {
      if (b && JSON.stringify(a.meta.model) !== JSON.stringify(b.meta.model)) throw new LosstopoError({ code: 'invalid_file', file: c.along }, `has a different model configuration than ${c.checkpoint}: cannot interpolate`);
      setup = await hessianSetup(a.meta, c);
      const alphas = b ? c.alphas ?? alphaGrid(d.alphas) : [];
      const resolved = { kind: 'hessian', checkpoint: c.checkpoint, along: c.along ?? null, alphas, batches: setup.batches.length, batch: c.batch ?? d.batch, images: setup.images,
        iters, tol, seed, bnMode: 'eval', data: setup.sets.data.config, model: a.meta.model };
      const store = open('probe', resolved, seed);
      const pi = { iters, tol, seed };
      loadMixed(model, a, null, 0);
      const top = modelTopHessianEigenvalue(model, setup.batches, { ...pi, ...(o.onIter ? { onIter: o.onIter } : {}) });
      const along = b && c.along ? { to: c.along, points: sweepLine(model, a, b, alphas, setup.batches, pi, o.onPoint) } : null;
      const result: HessianProbeResult = { kind: 'hessian', checkpoint: c.checkpoint, images: setup.images, batches: setup.batches.length, batch: c.batch ?? d.batch, seed, ...top, along, outDir: store?.dir ?? null };
      const { outDir: _, ...doc } = result;
      store?.finish('curvature.json', JSON.stringify({ ...doc, iters, tol }, null, 1) + '\n', 'completed',
        { eigenvalue: top.eigenvalue, iterations: top.iterations, converged: top.converged, ...(along ? { maxAlongEigenvalue: Math.max(...along.points.map((p) => p.eigenvalue)) } : {}) });
      return result;
    });
  } finally {
    const st = setup as HessianSetup | null; // assigned inside the callback
    if (st) for (const bt of st.batches) disposeAll([bt.x, bt.y]);
    model.dispose(); disposeState(a); if (b) disposeState(b);
  }
}

// --- filter-normalised directions ----------------------------------------------------------------
/** A direction: one host array per parameter name (row-major, the parameter's shape). */
export type Direction = Map<string, Float64Array>;

/**
 * A random direction with filter normalisation (Li et al. 2018): N(0, 1) per parameter (all
 * parameters drawn, in namedParameters order, so the stream does not depend on the choice below),
 * each dim-0 slice of a weight with rank >= 2 rescaled to the norm of the weights' slice; rank-1
 * parameters (biases, BN weight and bias) zero. Pass a Generator to draw several directions.
 */
export function filterNormalizedDirection(model: Module, seed: number | Generator): Direction {
  const gen = typeof seed === 'number' ? new Generator(seed) : seed;
  const out: Direction = new Map();
  for (const [name, p] of model.namedParameters()) {
    const r = randn(p.shape, gen, 'float64');
    const dir = r.toFloat64();
    r.dispose();
    if (p.rank < 2) { dir.fill(0); out.set(name, dir); continue; }
    const w = p.toFloat64();
    const filters = p.shape[0]!, per = dir.length / filters;
    for (let f = 0; f < filters; f++) {
      let wn = 0, dn = 0;
      for (let i = f * per; i < (f + 1) * per; i++) { wn += w[i]! * w[i]!; dn += dir[i]! * dir[i]!; }
      const k = dn > 0 ? Math.sqrt(wn) / Math.sqrt(dn) : 0;
      for (let i = f * per; i < (f + 1) * per; i++) dir[i] = dir[i]! * k;
    }
    out.set(name, dir);
  }
  return out;
}

/** The parameters as host arrays (the slice's origin). */
export function hostParameters(model: Module): Direction {
  return new Map(model.namedParameters().map(([n, p]) => [n, p.toFloat64()]));
}

/** Sets the parameters to base + sum_k coef_k * dir_k (a zero coefficient adds nothing: exact). */
export function setParameters(model: Module, base: Direction, terms: readonly (readonly [Direction, number])[]): void {
  noGrad(() => {
    for (const [name, p] of model.namedParameters()) {
      const w0 = base.get(name)!;
      const v = p.dtype === 'float64' ? new Float64Array(w0.length) : new Float32Array(w0.length);
      for (let i = 0; i < v.length; i++) {
        let x = w0[i]!;
        for (const [dir, c] of terms) if (c !== 0) x += c * dir.get(name)![i]!;
        v[i] = x;
      }
      const t = Tensor.fromData(v, p.shape);
      p.copy_(t);
      t.dispose();
    }
  });
}

// --- slice probe ---------------------------------------------------------------------------------
export interface SliceProbeConfig {
  checkpoint: string;
  dims?: 1 | 2;
  /** Steps along each direction (units of the filter-normalised direction). */
  range?: number[];
  seed?: number;
  trainSize?: number;
  testSize?: number;
  evalBatch?: number;
  flatEps?: number;
  data?: Partial<ResolvedDataConfig>;
  threads?: number;
}

export interface SlicePoint { s?: number; t: number; split: 'train' | 'test'; loss: number; accuracy: number }

export interface SliceProbeResult {
  kind: 'slice1d' | 'slice2d';
  checkpoint: string;
  seed: number;
  range: number[];
  trainSize: number;
  testSize: number;
  /** 1-D: t (the direction's coefficient); 2-D: s (first direction), t (second). */
  points: SlicePoint[];
  /** 1-D only: flatness width of each split's loss (as interpolation's, over t). */
  flatness: { train: Flatness; test: Flatness } | null;
  outDir: string | null;
}

export interface SliceRunOptions { out?: string; onPoint?: (p: SlicePoint, done: number, total: number) => void; sets?: EvalSets }

const evalLoader = (data: PreparedData, set: ImageSet, batch: number): BatchLoader =>
  new BatchLoader(makeBatchSpec(set, data.transforms.eval, { batchSize: batch, train: false, labelType: 'int64' }));

/** Loss and accuracy on the 1-D or 2-D filter-normalised random slice through a checkpoint (eval mode). */
export async function runSliceProbe(c: SliceProbeConfig, o: SliceRunOptions = {}): Promise<SliceProbeResult> {
  const d = curvatureDefaults;
  const dims = c.dims ?? d.dims, seed = c.seed ?? d.seed, range = c.range ?? alphaGrid(d.range), batch = c.evalBatch ?? d.evalBatch;
  if (dims !== 1 && dims !== 2) throw new LosstopoError({ code: 'invalid_config', path: 'dims', received: String(dims) }, 'expected 1 or 2');
  setThreads(c.threads ?? d.threads);
  const a = readState(c.checkpoint);
  const model = buildModel(a.meta.model, 0);
  try {
    return await inRunFolder(o.out, async (open) => {
      loadMixed(model, a, null, 0);
      // --test-size overrides the checkpoint's test subset; without it, the checkpoint's, capped at the default.
      const overrides = { ...c.data, ...(c.testSize ? { testSize: c.testSize } : {}) };
      const sets = o.sets ?? await prepareEvalSets(a.meta.data, overrides, c.trainSize ?? d.trainSize);
      const testSet = o.sets || overrides.testSize ? sets.test : cap(sets, d.testSize);
      const splits: [('train' | 'test'), ImageSet][] = [['train', sets.train], ['test', testSet]];
      const resolved = { kind: dims === 1 ? 'slice1d' : 'slice2d', checkpoint: c.checkpoint, dims, range, seed, trainSize: sets.train.count, testSize: testSet.count,
        evalBatch: batch, directions: 'filter-normalised N(0,1); biases and BN parameters 0', bnMode: 'eval', data: sets.data.config, model: a.meta.model };
      const store = open('probe', resolved, seed);
      const gen = new Generator(seed);
      const d1 = filterNormalizedDirection(model, gen);
      const d2 = dims === 2 ? filterNormalizedDirection(model, gen) : null;
      const base = hostParameters(model);
      const grid: [number | undefined, number][] = d2 ? range.flatMap((s) => range.map((t) => [s, t] as [number, number])) : range.map((t) => [undefined, t]);
      const points: SlicePoint[] = [];
      grid.forEach(([s, t], k) => {
        setParameters(model, base, d2 ? [[d1, s!], [d2, t]] : [[d1, t]]);
        for (const [split, set] of splits) {
          const e: EvalResult = evaluate(model, evalLoader(sets.data, set, batch), set);
          const p: SlicePoint = { ...(s !== undefined ? { s } : {}), t, split, loss: e.loss, accuracy: e.accuracy };
          points.push(p);
          store?.append(p as unknown as Record<string, unknown>);
          o.onPoint?.(p, k + 1, grid.length);
        }
      });
      const curve = (sp: 'train' | 'test'): { alpha: number; loss: number }[] => points.filter((p) => p.split === sp).map((p) => ({ alpha: p.t, loss: p.loss }));
      const eps = c.flatEps ?? d.flatEps;
      const flatness = d2 ? null : { train: flatnessWidth(curve('train'), eps), test: flatnessWidth(curve('test'), eps) };
      const result: SliceProbeResult = { kind: dims === 1 ? 'slice1d' : 'slice2d', checkpoint: c.checkpoint, seed, range, trainSize: sets.train.count, testSize: testSet.count, points, flatness, outDir: store?.dir ?? null };
      const { outDir: _, ...doc } = result;
      store?.finish('curvature.json', JSON.stringify(doc, null, 1) + '\n', 'completed',
        { kind: result.kind, points: grid.length, ...(flatness ? { flatWidthTrain: flatness.train.width, flatWidthTest: flatness.test.width } : {}) });
      return result;
    });
  } finally {
    model.dispose(); disposeState(a);
  }
}

/** The test split, cut to its first `n` class-balanced images when it holds more. */
const cap = (sets: EvalSets, n: number): ImageSet => (n >= sets.test.count ? sets.test : subsetTest(sets.test, n));
