/**
 * Caffe's learning-rate policies with Caffe's semantics (BVLC `sgd_solver.cpp`,
 * `SGDSolver::GetLearningRate`), and Leslie Smith's cyclical policies from his Caffe fork
 * (`triangular`, `triangular2`, `exp_range`), which the authors' logs in reference/caffe-logs use.
 *
 * Names are Caffe's solver fields in camelCase (`base_lr` -> `baseLr`). Caffe keeps the momentum
 * fixed (`momentum` in the solver), so these schedules report the constant `momentum` when given
 * and null otherwise. Caffe computes in float32; these compute in float64 (relative difference
 * below 1e-7).
 */
import { Checker, type Naming, type Schedule, keyNaming } from './core.js';

type Opts = Record<string, unknown>;
/** A factory's input: the config without `policy`, with the defaulted fields optional. */
export type Input<C, K extends keyof C = never> = Omit<C, 'policy' | K> & Partial<Pick<C, K>>;

interface Base { baseLr: number; momentum: number | null }
export interface FixedConfig extends Base { policy: 'fixed' }
export interface StepConfig extends Base { policy: 'step'; gamma: number; stepsize: number }
export interface MultistepConfig extends Base { policy: 'multistep'; gamma: number; stepvalue: number[] }
export interface ExpConfig extends Base { policy: 'exp'; gamma: number }
export interface InvConfig extends Base { policy: 'inv'; gamma: number; power: number }
export interface PolyConfig extends Base { policy: 'poly'; power: number; maxIter: number }
export interface SigmoidConfig extends Base { policy: 'sigmoid'; gamma: number; stepsize: number }
export interface TriangularConfig extends Base { policy: 'triangular' | 'triangular2'; maxLr: number; stepsize: number }
export interface ExpRangeConfig extends Base { policy: 'exp_range'; maxLr: number; stepsize: number; gamma: number }

const lrAndMomentum = (ck: Checker, o: Opts): Base => ({ baseLr: ck.nonNegative(o, 'baseLr'), momentum: ck.optionalMomentum(o, 'momentum') });

// --- fixed: base_lr -------------------------------------------------------------------------
export function resolveFixed(o: Opts, naming: Naming = keyNaming): FixedConfig {
  const ck = new Checker(naming, '', 'policy fixed');
  return { policy: 'fixed', ...lrAndMomentum(ck, o) };
}
export function buildFixed(c: FixedConfig): Schedule {
  return () => ({ lr: c.baseLr, momentum: c.momentum });
}
export const makeFixed = (o: Input<FixedConfig, 'momentum'>): Schedule => buildFixed(resolveFixed(o as Opts));

// --- step: base_lr * gamma ^ floor(iter / stepsize) -------------------------------------------
export function resolveStep(o: Opts, naming: Naming = keyNaming): StepConfig {
  const ck = new Checker(naming, '', 'policy step');
  const b = lrAndMomentum(ck, o);
  return { policy: 'step', ...b, gamma: ck.nonNegative(o, 'gamma'), stepsize: ck.positiveInt(o, 'stepsize') };
}
export function buildStep(c: StepConfig): Schedule {
  return (iter) => ({ lr: c.baseLr * Math.pow(c.gamma, Math.floor(iter / c.stepsize)), momentum: c.momentum });
}
export const makeStep = (o: Input<StepConfig, 'momentum'>): Schedule => buildStep(resolveStep(o as Opts));

// --- multistep: base_lr * gamma ^ (steps taken), one step at most per iteration --------------
export function resolveMultistep(o: Opts, naming: Naming = keyNaming): MultistepConfig {
  const ck = new Checker(naming, '', 'policy multistep');
  const b = lrAndMomentum(ck, o);
  const gamma = ck.nonNegative(o, 'gamma');
  const stepvalue = ck.numbers(o, 'stepvalue', 'a non-empty list of iterations (integers >= 0)', (x) => Number.isInteger(x) && x >= 0);
  return { policy: 'multistep', ...b, gamma, stepvalue };
}
/**
 * Caffe advances `current_step_` at most once per iteration, when iter >= stepvalue[current_step_].
 * For increasing stepvalues that is "count of stepvalues <= iter"; for repeated or decreasing ones
 * the k-th step lands at max(stepvalue[k], landing of step k-1 + 1), which is what this computes.
 */
export function multistepLandings(stepvalue: readonly number[]): number[] {
  const out: number[] = [];
  for (const v of stepvalue) out.push(out.length === 0 ? v : Math.max(v, out[out.length - 1]! + 1));
  return out;
}
export function buildMultistep(c: MultistepConfig): Schedule {
  const landings = multistepLandings(c.stepvalue);
  return (iter) => {
    let steps = 0;
    while (steps < landings.length && iter >= landings[steps]!) steps++;
    return { lr: c.baseLr * Math.pow(c.gamma, steps), momentum: c.momentum };
  };
}
export const makeMultistep = (o: Input<MultistepConfig, 'momentum'>): Schedule => buildMultistep(resolveMultistep(o as Opts));

// --- exp: base_lr * gamma ^ iter ---------------------------------------------------------------
export function resolveExp(o: Opts, naming: Naming = keyNaming): ExpConfig {
  const ck = new Checker(naming, '', 'policy exp');
  return { policy: 'exp', ...lrAndMomentum(ck, o), gamma: ck.nonNegative(o, 'gamma') };
}
export function buildExp(c: ExpConfig): Schedule {
  return (iter) => ({ lr: c.baseLr * Math.pow(c.gamma, iter), momentum: c.momentum });
}
export const makeExp = (o: Input<ExpConfig, 'momentum'>): Schedule => buildExp(resolveExp(o as Opts));

// --- inv: base_lr * (1 + gamma * iter) ^ (-power) -----------------------------------------------
export function resolveInv(o: Opts, naming: Naming = keyNaming): InvConfig {
  const ck = new Checker(naming, '', 'policy inv');
  return { policy: 'inv', ...lrAndMomentum(ck, o), gamma: ck.nonNegative(o, 'gamma'), power: ck.number(o, 'power') };
}
export function buildInv(c: InvConfig): Schedule {
  return (iter) => ({ lr: c.baseLr * Math.pow(1 + c.gamma * iter, -c.power), momentum: c.momentum });
}
export const makeInv = (o: Input<InvConfig, 'momentum'>): Schedule => buildInv(resolveInv(o as Opts));

// --- poly: base_lr * (1 - iter / max_iter) ^ power ----------------------------------------------
export function resolvePoly(o: Opts, naming: Naming = keyNaming): PolyConfig {
  const ck = new Checker(naming, '', 'policy poly');
  const b = lrAndMomentum(ck, o);
  const power = ck.nonNegative(o, 'power');
  return { policy: 'poly', ...b, power, maxIter: ck.positiveInt(o, 'maxIter') };
}
/** Caffe never evaluates past max_iter; there the base of the power is held at 0. */
export function buildPoly(c: PolyConfig): Schedule {
  return (iter) => ({ lr: c.baseLr * Math.pow(Math.max(0, 1 - iter / c.maxIter), c.power), momentum: c.momentum });
}
export const makePoly = (o: Input<PolyConfig, 'momentum'>): Schedule => buildPoly(resolvePoly(o as Opts));

// --- sigmoid: base_lr / (1 + exp(-gamma * (iter - stepsize))) ------------------------------------
export function resolveSigmoid(o: Opts, naming: Naming = keyNaming): SigmoidConfig {
  const ck = new Checker(naming, '', 'policy sigmoid');
  return { policy: 'sigmoid', ...lrAndMomentum(ck, o), gamma: ck.number(o, 'gamma'), stepsize: ck.positiveInt(o, 'stepsize') };
}
export function buildSigmoid(c: SigmoidConfig): Schedule {
  return (iter) => ({ lr: c.baseLr * (1 / (1 + Math.exp(-c.gamma * (iter - c.stepsize)))), momentum: c.momentum });
}
export const makeSigmoid = (o: Input<SigmoidConfig, 'momentum'>): Schedule => buildSigmoid(resolveSigmoid(o as Opts));

// --- Smith's cyclical policies ----------------------------------------------------------------
/**
 * The triangle wave of Smith's fork, in [0, 1]: cycle = floor(1 + it/(2s)),
 * x = |it/s - 2*cycle + 1|, value max(0, 1 - x). Returns the value and the 1-based cycle.
 */
export function triangleWave(iter: number, stepsize: number): { value: number; cycle: number } {
  const cycle = Math.floor(1 + iter / (2 * stepsize));
  const x = Math.abs(iter / stepsize - 2 * cycle + 1);
  return { value: Math.max(0, 1 - x), cycle };
}

function resolveCyclical(o: Opts, ck: Checker): Base & { maxLr: number; stepsize: number } {
  const b = lrAndMomentum(ck, o);
  const maxLr = ck.nonNegative(o, 'maxLr');
  ck.notBelow('maxLr', maxLr, 'baseLr', b.baseLr);
  return { ...b, maxLr, stepsize: ck.positiveInt(o, 'stepsize') };
}

export function resolveTriangular(o: Opts, naming: Naming = keyNaming, policy: 'triangular' | 'triangular2' = 'triangular'): TriangularConfig {
  return { policy, ...resolveCyclical(o, new Checker(naming, '', `policy ${policy}`)) };
}
/** triangular: base + (max - base) * wave; triangular2: the amplitude halves every cycle. */
export function buildTriangular(c: TriangularConfig): Schedule {
  const halve = c.policy === 'triangular2';
  return (iter) => {
    const { value, cycle } = triangleWave(iter, c.stepsize);
    const amplitude = halve ? value / Math.pow(2, cycle - 1) : value;
    return { lr: c.baseLr + (c.maxLr - c.baseLr) * amplitude, momentum: c.momentum };
  };
}
export const makeTriangular = (o: Input<TriangularConfig, 'momentum'>): Schedule => buildTriangular(resolveTriangular(o as Opts));
export const makeTriangular2 = (o: Input<TriangularConfig, 'momentum'>): Schedule => buildTriangular(resolveTriangular(o as Opts, keyNaming, 'triangular2'));

export function resolveExpRange(o: Opts, naming: Naming = keyNaming): ExpRangeConfig {
  const ck = new Checker(naming, '', 'policy exp_range');
  return { policy: 'exp_range', ...resolveCyclical(o, ck), gamma: ck.positive(o, 'gamma') };
}
/** exp_range: the triangle's amplitude is multiplied by gamma ^ iter. */
export function buildExpRange(c: ExpRangeConfig): Schedule {
  return (iter) => ({
    lr: c.baseLr + (c.maxLr - c.baseLr) * triangleWave(iter, c.stepsize).value * Math.pow(c.gamma, iter),
    momentum: c.momentum,
  });
}
export const makeExpRange = (o: Input<ExpRangeConfig, 'momentum'>): Schedule => buildExpRange(resolveExpRange(o as Opts));
