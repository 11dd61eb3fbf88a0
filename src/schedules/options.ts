/**
 * The schedule options as a CLI option table, shared by `losstopo schedule` and `losstopo train`.
 * Flags are the kebab-case of each anchor's own names (Caffe's for Caffe policies, PyTorch's for
 * cyclic/one_cycle/sgdr, fastai's for fit_one_cycle). The table has no defaults on purpose:
 * defaults depend on the policy and are filled by `resolveSchedule`, so only what the user gave
 * reaches the registry (`pickScheduleOptions`).
 */
import type { OptTable } from '../cli/options.js';
import { expected } from '../errors.js';
import { allScheduleKeys, policyNames } from './registry.js';
import { annealStrategies, cyclicModes, scaleModes } from './pytorch.js';
import { stepModes } from './fastai.js';

export const scheduleOptions = {
  policy: { type: 'string', description: `LR policy: ${policyNames.join('|')}` },
  // Caffe (solver.prototxt names) and Smith's CLR fork
  baseLr: { type: 'number', description: 'base_lr: the starting / lower LR (Caffe, CyclicLR, range, sgdr)' },
  maxLr: { type: 'number', description: 'max_lr: the upper LR of a cycle / the peak of one-cycle / the end of a range test' },
  stepsize: { type: 'int', description: 'stepsize: iterations per LR step (step), sigmoid centre, or half-cycle (triangular*)' },
  gamma: { type: 'number', description: 'gamma: decay factor (step, multistep, exp, inv, sigmoid, exp_range); CyclicLR exp_range base (default 1.0)' },
  power: { type: 'number', description: 'power: exponent of inv and poly' },
  stepvalue: { type: 'numbers', description: 'stepvalue: iterations at which multistep multiplies the LR by gamma, e.g. 50000,70000' },
  maxIter: { type: 'int', description: 'max_iter: length of poly decay and of the range test' },
  momentum: { type: 'number', description: 'constant momentum to report where the policy does not set one (default: none, reported as null)' },
  // PyTorch CyclicLR / OneCycleLR
  stepSizeUp: { type: 'int', description: 'cyclic: iterations of the increasing half (default 2000)' },
  stepSizeDown: { type: 'int', description: 'cyclic: iterations of the decreasing half (default: step-size-up)' },
  mode: { type: 'enum', choices: cyclicModes, description: 'cyclic: amplitude policy (default triangular)' },
  scaleMode: { type: 'enum', choices: scaleModes, description: "cyclic: scale by cycle or by iteration (default: the mode's own)" },
  cycleMomentum: { type: 'boolean', description: 'cyclic/one_cycle: cycle momentum inversely to the LR (default on)' },
  baseMomentum: { type: 'number', description: 'cyclic/one_cycle: lower momentum (default 0.8 cyclic, 0.85 one_cycle)' },
  maxMomentum: { type: 'number', description: 'cyclic/one_cycle: upper momentum (default 0.9 cyclic, 0.95 one_cycle)' },
  totalSteps: { type: 'int', description: 'one_cycle/fit_one_cycle: iterations in the cycle (required)' },
  pctStart: { type: 'number', description: 'one_cycle/fit_one_cycle: fraction of the run spent increasing the LR (default 0.3 / 0.25)' },
  annealStrategy: { type: 'enum', choices: annealStrategies, description: 'one_cycle: annealing shape (default cos)' },
  divFactor: { type: 'number', description: 'one_cycle/fit_one_cycle: initial LR = max-lr / div-factor (default 25)' },
  finalDivFactor: { type: 'number', description: 'one_cycle: min LR = initial LR / final-div-factor (default 1e4)' },
  threePhase: { type: 'boolean', description: 'one_cycle: symmetric warm-up and cool-down, then annihilation (default off)' },
  // fastai
  divFinal: { type: 'number', description: 'fit_one_cycle: the LR ends at max-lr / div-final (default 1e5)' },
  moms: { type: 'numbers', description: 'fit_one_cycle: momentum at start,middle,end (default 0.95,0.85,0.95)' },
  stepMode: { type: 'enum', choices: stepModes, description: 'range: linear (paper, Caffe) or exp (fastai lr_find) (default linear)' },
  // PyTorch CosineAnnealingWarmRestarts
  t0: { type: 'int', description: 'sgdr: iterations until the first restart (T_0, required)' },
  tMult: { type: 'int', description: 'sgdr: period multiplier after a restart (T_mult, default 1)' },
  etaMin: { type: 'number', description: 'sgdr: minimum LR (eta_min, default 0)' },
  // any policy
  warmupIters: { type: 'int', description: 'linear warm-up iterations before the policy starts (default 0)' },
  warmupStartLr: { type: 'number', description: 'LR at the start of the warm-up (default 0)' },
} as const satisfies OptTable;

export type ScheduleOptionKey = keyof typeof scheduleOptions;

/** The schedule options present in a parsed option object (undefined ones dropped), minus `policy`. */
export function pickScheduleOptions(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of allScheduleKeys) if (values[key] !== undefined) out[key] = values[key];
  return out;
}

/** The most points `parseIterSpec` produces (a guard against `0:1e9:1`). */
export const maxIterPoints = 1_000_000;

/**
 * `--iters` SPEC: a comma list `0,100,5000` or a range `start:stop:step` / `start:stop` (step 1),
 * stop included when it lies on the grid. Iterations are integers >= 0.
 */
export function parseIterSpec(spec: string, flag = '--iters'): number[] {
  const what = 'iterations as a list (0,100,5000) or a range start:stop:step (integers >= 0, stop included)';
  const int = (s: string): number => {
    const t = s.trim();
    const v = Number(t);
    if (t === '' || !Number.isInteger(v) || v < 0) throw expected(flag, what, spec);
    return v;
  };
  if (spec.includes(':')) {
    const parts = spec.split(':');
    if (parts.length > 3) throw expected(flag, what, spec);
    const start = int(parts[0]!), stop = int(parts[1]!), step = parts.length === 3 ? int(parts[2]!) : 1;
    if (step === 0) throw expected(flag, 'a range with a step > 0', spec);
    if (stop < start) throw expected(flag, 'a range with start <= stop', spec);
    const n = Math.floor((stop - start) / step) + 1;
    if (n > maxIterPoints) throw expected(flag, `at most ${maxIterPoints} points`, spec);
    return Array.from({ length: n }, (_, i) => start + i * step);
  }
  const list = spec.split(',').map(int);
  if (list.length > maxIterPoints) throw expected(flag, `at most ${maxIterPoints} points`, spec);
  return list;
}
