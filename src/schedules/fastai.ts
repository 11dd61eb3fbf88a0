/**
 * fastai's shapes: `fit_one_cycle` (fastai 2, `callback/schedule.py`) and the LR range test
 * (`range`: Caffe's linear form, as in the paper, or fastai's exponential `lr_find`).
 *
 * fit_one_cycle: position pos = iter / totalSteps; for pos < pctStart a cosine from maxLr/div to
 * maxLr, then a cosine from maxLr to maxLr/divFinal (fastai's `combined_cos(pct_start,
 * lr_max/div, lr_max, lr_max/div_final)`); momentum follows `moms` (0.95, 0.85, 0.95) the same
 * way. fastai computes the phase position in float32; this uses float64.
 */
import { Checker, type Naming, type Schedule, cosineInterp, join, keyNaming, pastEnd } from './core.js';
import { type Input, buildTriangular } from './caffe.js';

type Opts = Record<string, unknown>;

export interface FitOneCycleConfig {
  policy: 'fit_one_cycle';
  /** fastai `lr_max`. */
  maxLr: number;
  /** Iterations in the whole run (fastai: n_epoch * batches per epoch); required. */
  totalSteps: number;
  /** Default 0.25. */
  pctStart: number;
  /** fastai `div`: the run starts at maxLr / divFactor; default 25. */
  divFactor: number;
  /** fastai `div_final`: the run ends towards maxLr / divFinal; default 1e5. */
  divFinal: number;
  /** Momentum at start, at pctStart and at the end; default [0.95, 0.85, 0.95]. */
  moms: [number, number, number];
}

export function resolveFitOneCycle(o: Opts, naming: Naming = keyNaming): FitOneCycleConfig {
  const ck = new Checker(naming, '', 'policy fit_one_cycle');
  const maxLr = ck.nonNegative(o, 'maxLr');
  const totalSteps = ck.positiveInt(o, 'totalSteps');
  const pctStart = ck.openInterval(o, 'pctStart', 0, 1, 0.25);
  const divFactor = ck.positive(o, 'divFactor', 25);
  const divFinal = ck.positive(o, 'divFinal', 1e5);
  const moms = ck.numbers(o, 'moms', 'three momenta in [0, 1] (start,middle,end)', (x) => x >= 0 && x <= 1, [0.95, 0.85, 0.95]);
  if (moms.length !== 3) ck.contradiction('moms', 'three momenta in [0, 1] (start,middle,end)', moms.join(','));
  return { policy: 'fit_one_cycle', maxLr, totalSteps, pctStart, divFactor, divFinal, moms: moms as [number, number, number] };
}

/** Defined for iterations 0..totalSteps (fastai stops at totalSteps - 1). */
export function buildFitOneCycle(c: FitOneCycleConfig): Schedule {
  const start = c.maxLr / c.divFactor, end = c.maxLr / c.divFinal;
  const [m0, m1, m2] = c.moms;
  const up = c.pctStart * c.totalSteps;
  const inner = join([
    (it) => { const t = it / up; return { lr: cosineInterp(start, c.maxLr, t), momentum: cosineInterp(m0, m1, t) }; },
    (it) => { const t = it / (c.totalSteps - up); return { lr: cosineInterp(c.maxLr, end, t), momentum: cosineInterp(m1, m2, t) }; },
  ], [up]);
  return (iter) => {
    if (iter > c.totalSteps) throw pastEnd(iter, c.totalSteps, 'total_steps');
    return inner(iter);
  };
}
export const makeFitOneCycle = (o: Input<FitOneCycleConfig, 'pctStart' | 'divFactor' | 'divFinal' | 'moms'>): Schedule =>
  buildFitOneCycle(resolveFitOneCycle(o as Opts));

// --- LR range test ------------------------------------------------------------------------------
export const stepModes = ['linear', 'exp'] as const;
export type StepMode = (typeof stepModes)[number];

export interface RangeConfig {
  policy: 'range';
  /** The LR at iteration 0 (the paper: 0; must be > 0 for exp). */
  baseLr: number;
  /** The LR reached at maxIter. */
  maxLr: number;
  /** Length of the test in iterations. */
  maxIter: number;
  /**
   * linear (default): Caffe's triangular with stepsize = maxIter, as the authors ran it (past
   * maxIter it descends again, as Caffe would). exp: fastai's lr_find,
   * baseLr * (maxLr/baseLr) ^ (iter/maxIter), held at maxLr past maxIter.
   */
  stepMode: StepMode;
  momentum: number | null;
}

export function resolveRange(o: Opts, naming: Naming = keyNaming): RangeConfig {
  const ck = new Checker(naming, '', 'policy range');
  const stepMode = ck.choice(o, 'stepMode', stepModes, 'linear');
  const baseLr = stepMode === 'exp' ? ck.positive(o, 'baseLr') : ck.nonNegative(o, 'baseLr');
  const maxLr = ck.nonNegative(o, 'maxLr');
  ck.notBelow('maxLr', maxLr, 'baseLr', baseLr);
  return { policy: 'range', baseLr, maxLr, maxIter: ck.positiveInt(o, 'maxIter'), stepMode, momentum: ck.optionalMomentum(o, 'momentum') };
}

export function buildRange(c: RangeConfig): Schedule {
  if (c.stepMode === 'linear') {
    return buildTriangular({ policy: 'triangular', baseLr: c.baseLr, maxLr: c.maxLr, stepsize: c.maxIter, momentum: c.momentum });
  }
  const ratio = c.maxLr / c.baseLr;
  return (iter) => ({ lr: c.baseLr * ratio ** (Math.min(Math.max(iter, 0), c.maxIter) / c.maxIter), momentum: c.momentum });
}
export const makeRange = (o: Input<RangeConfig, 'stepMode' | 'momentum'>): Schedule => buildRange(resolveRange(o as Opts));
