/**
 * PyTorch's schedulers with PyTorch 1.13's semantics and defaults, iteration by iteration
 * (`scheduler.step()` once per batch; the value at iteration k is what the optimizer holds after
 * k steps): `torch.optim.lr_scheduler.CyclicLR`, `OneCycleLR` and `CosineAnnealingWarmRestarts`.
 * The arithmetic follows PyTorch's own expressions in the same order, so values agree with
 * PyTorch to a few ulps (test/fixtures/schedules/pytorch.json holds PyTorch's own output).
 *
 * Names are PyTorch's in camelCase (`step_size_up` -> `stepSizeUp`, `T_0` -> `t0`).
 */
import { Checker, type Naming, type Schedule, keyNaming, pastEnd } from './core.js';
import type { Input } from './caffe.js';

type Opts = Record<string, unknown>;

// --- CyclicLR ---------------------------------------------------------------------------------
export const cyclicModes = ['triangular', 'triangular2', 'exp_range'] as const;
export type CyclicMode = (typeof cyclicModes)[number];
export const scaleModes = ['cycle', 'iterations'] as const;
export type ScaleMode = (typeof scaleModes)[number];

export interface CyclicConfig {
  policy: 'cyclic';
  baseLr: number;
  maxLr: number;
  /** Default 2000. */
  stepSizeUp: number;
  /** Default: stepSizeUp. */
  stepSizeDown: number;
  /** Default 'triangular'. */
  mode: CyclicMode;
  /** exp_range's base, default 1.0. */
  gamma: number;
  /** Default: the mode's own ('cycle' for triangular/triangular2, 'iterations' for exp_range). */
  scaleMode: ScaleMode;
  /** Default true. */
  cycleMomentum: boolean;
  /** Default 0.8. */
  baseMomentum: number;
  /** Default 0.9. */
  maxMomentum: number;
  /** The optimizer's own momentum, reported when cycleMomentum is false (else null). */
  momentum: number | null;
}

const defaultScaleMode: Record<CyclicMode, ScaleMode> = { triangular: 'cycle', triangular2: 'cycle', exp_range: 'iterations' };

/** cycleMomentum plus a constant momentum contradict each other; one line says which to drop. */
function cycleMomentumConflict(ck: Checker, o: Opts, cycleMomentum: boolean): number | null {
  const momentum = ck.optionalMomentum(o, 'momentum');
  if (cycleMomentum && momentum !== null) {
    ck.contradiction('momentum', `no constant momentum while ${ck.naming('cycleMomentum')} is on (use ${ck.naming('baseMomentum')}/${ck.naming('maxMomentum')}, or turn cycle momentum off)`, momentum);
  }
  // With cycle momentum off PyTorch ignores base/max momentum; so does this (they stay in the
  // resolved config at their values, so resolving a resolved config gives it back unchanged).
  return momentum;
}

function resolveMomentumRange(ck: Checker, o: Opts, base: number, max: number): { baseMomentum: number; maxMomentum: number } {
  const baseMomentum = ck.momentum(o, 'baseMomentum', base);
  const maxMomentum = ck.momentum(o, 'maxMomentum', max);
  ck.notBelow('maxMomentum', maxMomentum, 'baseMomentum', baseMomentum);
  return { baseMomentum, maxMomentum };
}

export function resolveCyclic(o: Opts, naming: Naming = keyNaming): CyclicConfig {
  const ck = new Checker(naming, '', 'policy cyclic');
  const baseLr = ck.nonNegative(o, 'baseLr');
  const maxLr = ck.nonNegative(o, 'maxLr');
  ck.notBelow('maxLr', maxLr, 'baseLr', baseLr);
  const stepSizeUp = ck.positiveInt(o, 'stepSizeUp', 2000);
  const stepSizeDown = ck.positiveInt(o, 'stepSizeDown', stepSizeUp);
  const mode = ck.choice(o, 'mode', cyclicModes, 'triangular');
  const gamma = ck.positive(o, 'gamma', 1.0);
  const scaleMode = ck.choice(o, 'scaleMode', scaleModes, defaultScaleMode[mode]);
  const cycleMomentum = ck.boolean(o, 'cycleMomentum', true);
  const momentum = cycleMomentumConflict(ck, o, cycleMomentum);
  const range = resolveMomentumRange(ck, o, 0.8, 0.9);
  return { policy: 'cyclic', baseLr, maxLr, stepSizeUp, stepSizeDown, mode, gamma, scaleMode, cycleMomentum, ...range, momentum };
}

export function buildCyclic(c: CyclicConfig): Schedule {
  const totalSize = c.stepSizeUp + c.stepSizeDown;
  const stepRatio = c.stepSizeUp / totalSize;
  const scaleFn: (x: number) => number =
    c.mode === 'triangular' ? () => 1.0
    : c.mode === 'triangular2' ? (x) => 1 / (2.0 ** (x - 1))
    : (x) => c.gamma ** x;
  return (iter) => {
    const cycle = Math.floor(1 + iter / totalSize);
    const x = 1.0 + iter / totalSize - cycle;
    const scaleFactor = x <= stepRatio ? x / stepRatio : (x - 1) / (stepRatio - 1);
    const scale = c.scaleMode === 'cycle' ? scaleFn(cycle) : scaleFn(iter);
    const lr = c.baseLr + (c.maxLr - c.baseLr) * scaleFactor * scale;
    const momentum = c.cycleMomentum ? c.maxMomentum - (c.maxMomentum - c.baseMomentum) * scaleFactor * scale : c.momentum;
    return { lr, momentum };
  };
}
export const makeCyclic = (o: Input<CyclicConfig, Exclude<keyof CyclicConfig, 'policy' | 'baseLr' | 'maxLr'>>): Schedule => buildCyclic(resolveCyclic(o as Opts));

// --- OneCycleLR -------------------------------------------------------------------------------
export const annealStrategies = ['cos', 'linear'] as const;
export type AnnealStrategy = (typeof annealStrategies)[number];

export interface OneCycleConfig {
  policy: 'one_cycle';
  maxLr: number;
  /** Required: the number of scheduler steps (iterations). */
  totalSteps: number;
  /** Default 0.3. */
  pctStart: number;
  /** Default 'cos'. */
  annealStrategy: AnnealStrategy;
  /** initial_lr = maxLr / divFactor; default 25. */
  divFactor: number;
  /** min_lr = initial_lr / finalDivFactor; default 1e4. */
  finalDivFactor: number;
  /** Default false. */
  threePhase: boolean;
  /** Default true. */
  cycleMomentum: boolean;
  /** Default 0.85. */
  baseMomentum: number;
  /** Default 0.95. */
  maxMomentum: number;
  momentum: number | null;
}

export function resolveOneCycle(o: Opts, naming: Naming = keyNaming): OneCycleConfig {
  const ck = new Checker(naming, '', 'policy one_cycle');
  const maxLr = ck.nonNegative(o, 'maxLr');
  const totalSteps = ck.positiveInt(o, 'totalSteps');
  const pctStart = ck.openInterval(o, 'pctStart', 0, 1, 0.3);
  const annealStrategy = ck.choice(o, 'annealStrategy', annealStrategies, 'cos');
  const divFactor = ck.positive(o, 'divFactor', 25);
  const finalDivFactor = ck.positive(o, 'finalDivFactor', 1e4);
  const threePhase = ck.boolean(o, 'threePhase', false);
  const cycleMomentum = ck.boolean(o, 'cycleMomentum', true);
  const momentum = cycleMomentumConflict(ck, o, cycleMomentum);
  const range = resolveMomentumRange(ck, o, 0.85, 0.95);
  const c: OneCycleConfig = { policy: 'one_cycle', maxLr, totalSteps, pctStart, annealStrategy, divFactor, finalDivFactor, threePhase, cycleMomentum, ...range, momentum };
  // PyTorch divides by each phase's length; a zero-length phase that an iteration can reach is a
  // ZeroDivisionError there, so it is refused here.
  const phases = oneCyclePhases(c);
  let start = 0;
  phases.forEach((p, i) => {
    const last = i === phases.length - 1;
    if (p.endStep === start && (last || p.endStep >= 0)) {
      ck.contradiction('pctStart', `a value for which no phase has zero length (${naming('pctStart')} * ${naming('totalSteps')} = ${pctStart * totalSteps} gives phase ${i + 1} zero length)`, pctStart);
    }
    start = p.endStep;
  });
  return c;
}

interface Phase { endStep: number; startLr: number; endLr: number; startMomentum: number; endMomentum: number }

export function oneCyclePhases(c: OneCycleConfig): Phase[] {
  const initialLr = c.maxLr / c.divFactor;
  const minLr = initialLr / c.finalDivFactor;
  const T = c.totalSteps, p = c.pctStart, lo = c.baseMomentum, hi = c.maxMomentum;
  return c.threePhase
    ? [
        { endStep: p * T - 1, startLr: initialLr, endLr: c.maxLr, startMomentum: hi, endMomentum: lo },
        { endStep: 2 * p * T - 2, startLr: c.maxLr, endLr: initialLr, startMomentum: lo, endMomentum: hi },
        { endStep: T - 1, startLr: initialLr, endLr: minLr, startMomentum: hi, endMomentum: hi },
      ]
    : [
        { endStep: p * T - 1, startLr: initialLr, endLr: c.maxLr, startMomentum: hi, endMomentum: lo },
        { endStep: T - 1, startLr: c.maxLr, endLr: minLr, startMomentum: lo, endMomentum: hi },
      ];
}

const annealCos = (start: number, end: number, pct: number): number => end + (start - end) / 2.0 * (Math.cos(Math.PI * pct) + 1);
const annealLinear = (start: number, end: number, pct: number): number => (end - start) * pct + start;

/** Defined for iterations 0..totalSteps (PyTorch raises past that; so does this). */
export function buildOneCycle(c: OneCycleConfig): Schedule {
  const phases = oneCyclePhases(c);
  const anneal = c.annealStrategy === 'cos' ? annealCos : annealLinear;
  return (iter) => {
    if (iter > c.totalSteps) throw pastEnd(iter, c.totalSteps, 'total_steps');
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const p = phases[i]!;
      if (iter <= p.endStep || i === phases.length - 1) {
        const pct = (iter - start) / (p.endStep - start);
        return {
          lr: anneal(p.startLr, p.endLr, pct),
          momentum: c.cycleMomentum ? anneal(p.startMomentum, p.endMomentum, pct) : c.momentum,
        };
      }
      start = p.endStep;
    }
    throw new Error('unreachable');
  };
}
export const makeOneCycle = (o: Input<OneCycleConfig, Exclude<keyof OneCycleConfig, 'policy' | 'maxLr' | 'totalSteps'>>): Schedule => buildOneCycle(resolveOneCycle(o as Opts));

// --- CosineAnnealingWarmRestarts (SGDR) -------------------------------------------------------
export interface SgdrConfig {
  policy: 'sgdr';
  /** The optimizer's initial LR (eta_max). */
  baseLr: number;
  /** Iterations until the first restart (PyTorch `T_0`, required). */
  t0: number;
  /** Period multiplier after each restart (`T_mult`, integer >= 1, default 1). */
  tMult: number;
  /** Minimum LR (`eta_min`, default 0). */
  etaMin: number;
  momentum: number | null;
}

export function resolveSgdr(o: Opts, naming: Naming = keyNaming): SgdrConfig {
  const ck = new Checker(naming, '', 'policy sgdr');
  const baseLr = ck.nonNegative(o, 'baseLr');
  const t0 = ck.positiveInt(o, 't0');
  const tMult = ck.int(o, 'tMult', 1, 1);
  const etaMin = ck.nonNegative(o, 'etaMin', 0);
  ck.notBelow('baseLr', baseLr, 'etaMin', etaMin);
  return { policy: 'sgdr', baseLr, t0, tMult, etaMin, momentum: ck.optionalMomentum(o, 'momentum') };
}

/** Where `iter` falls: T_cur iterations into a period of T_i (integer arithmetic, no logs). */
export function sgdrPosition(iter: number, t0: number, tMult: number): { tCur: number; tI: number } {
  if (tMult === 1) return { tCur: iter % t0, tI: t0 };
  let start = 0, tI = t0;
  while (iter >= start + tI) { start += tI; tI *= tMult; }
  return { tCur: iter - start, tI };
}

export function buildSgdr(c: SgdrConfig): Schedule {
  return (iter) => {
    const { tCur, tI } = sgdrPosition(iter, c.t0, c.tMult);
    return { lr: c.etaMin + (c.baseLr - c.etaMin) * (1 + Math.cos(Math.PI * tCur / tI)) / 2, momentum: c.momentum };
  };
}
export const makeSgdr = (o: Input<SgdrConfig, 'tMult' | 'etaMin' | 'momentum'>): Schedule => buildSgdr(resolveSgdr(o as Opts));
