/**
 * The schedule registry the trainer and the CLI use: a policy name plus a plain options object
 * (camelCase of the CLI flags: `--max-lr` -> `maxLr`) becomes a resolved, typed `ScheduleConfig`
 * (every default filled in, ready for run.json) and a `Schedule`.
 *
 * Options that do not apply to the policy, missing required ones and contradictory ones are
 * errors naming the option (as `--flag` by default) and the value.
 */
import { LosstopoError, expected } from '../errors.js';
import { closest } from '../cli/options.js';
import { Checker, type Naming, type Schedule, withWarmup } from './core.js';
import * as caffe from './caffe.js';
import * as torch from './pytorch.js';
import * as fastai from './fastai.js';

/** Options every policy takes: a linear warm-up in front of the schedule. */
export interface WarmupConfig {
  /** Iterations of linear warm-up before the policy starts (the policy then sees iter - warmupIters); default 0. */
  warmupIters: number;
  /** LR at iteration 0 of the warm-up; default 0. */
  warmupStartLr: number;
}

type PolicyConfig =
  | caffe.FixedConfig | caffe.StepConfig | caffe.MultistepConfig | caffe.ExpConfig | caffe.InvConfig
  | caffe.PolyConfig | caffe.SigmoidConfig | caffe.TriangularConfig | caffe.ExpRangeConfig
  | torch.CyclicConfig | torch.OneCycleConfig | torch.SgdrConfig
  | fastai.FitOneCycleConfig | fastai.RangeConfig;

/** A fully resolved schedule: the policy's own fields plus the warm-up, all defaults filled. */
export type ScheduleConfig = PolicyConfig & WarmupConfig;
export type Policy = ScheduleConfig['policy'];

interface PolicySpec {
  summary: string;
  /** The option keys (camelCase) this policy reads, besides warmupIters/warmupStartLr. */
  keys: readonly string[];
  resolve(o: Record<string, unknown>, naming: Naming): PolicyConfig;
  build(c: PolicyConfig): Schedule;
}

const spec = <C extends PolicyConfig>(
  summary: string, keys: readonly string[],
  resolve: (o: Record<string, unknown>, n: Naming) => C, build: (c: C) => Schedule,
): PolicySpec => ({ summary, keys, resolve, build: build as (c: PolicyConfig) => Schedule });

const caffeKeys = (...k: string[]): string[] => ['baseLr', ...k, 'momentum'];
const clrKeys = caffeKeys('maxLr', 'stepsize');

export const policies: Record<Policy, PolicySpec> = {
  fixed: spec('Caffe fixed: base_lr', caffeKeys(), caffe.resolveFixed, caffe.buildFixed),
  step: spec('Caffe step: base_lr * gamma^floor(iter/stepsize)', caffeKeys('gamma', 'stepsize'), caffe.resolveStep, caffe.buildStep),
  multistep: spec('Caffe multistep: base_lr * gamma^(stepvalues passed)', caffeKeys('gamma', 'stepvalue'), caffe.resolveMultistep, caffe.buildMultistep),
  exp: spec('Caffe exp: base_lr * gamma^iter', caffeKeys('gamma'), caffe.resolveExp, caffe.buildExp),
  inv: spec('Caffe inv: base_lr * (1 + gamma*iter)^-power', caffeKeys('gamma', 'power'), caffe.resolveInv, caffe.buildInv),
  poly: spec('Caffe poly: base_lr * (1 - iter/max_iter)^power', caffeKeys('power', 'maxIter'), caffe.resolvePoly, caffe.buildPoly),
  sigmoid: spec('Caffe sigmoid: base_lr / (1 + exp(-gamma*(iter - stepsize)))', caffeKeys('gamma', 'stepsize'), caffe.resolveSigmoid, caffe.buildSigmoid),
  triangular: spec("Smith's triangular CLR between base_lr and max_lr, half-cycle stepsize", clrKeys,
    (o, n) => caffe.resolveTriangular(o, n, 'triangular'), caffe.buildTriangular),
  triangular2: spec("Smith's triangular2: triangular with the amplitude halved every cycle", clrKeys,
    (o, n) => caffe.resolveTriangular(o, n, 'triangular2'), caffe.buildTriangular),
  exp_range: spec("Smith's exp_range: triangular with the amplitude times gamma^iter", [...clrKeys, 'gamma'], caffe.resolveExpRange, caffe.buildExpRange),
  cyclic: spec('PyTorch CyclicLR', ['baseLr', 'maxLr', 'stepSizeUp', 'stepSizeDown', 'mode', 'gamma', 'scaleMode', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'momentum'],
    torch.resolveCyclic, torch.buildCyclic),
  one_cycle: spec('PyTorch OneCycleLR', ['maxLr', 'totalSteps', 'pctStart', 'annealStrategy', 'divFactor', 'finalDivFactor', 'threePhase', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'momentum'],
    torch.resolveOneCycle, torch.buildOneCycle),
  fit_one_cycle: spec("fastai fit_one_cycle: cosine up from max/div, cosine down to max/div_final", ['maxLr', 'totalSteps', 'pctStart', 'divFactor', 'divFinal', 'moms'],
    fastai.resolveFitOneCycle, fastai.buildFitOneCycle),
  range: spec('LR range test: linear (Caffe triangular, stepsize = max_iter) or exp (fastai) from base_lr to max_lr', ['baseLr', 'maxLr', 'maxIter', 'stepMode', 'momentum'],
    fastai.resolveRange, fastai.buildRange),
  sgdr: spec('PyTorch CosineAnnealingWarmRestarts (SGDR)', ['baseLr', 't0', 'tMult', 'etaMin', 'momentum'], torch.resolveSgdr, torch.buildSgdr),
};

export const policyNames = Object.keys(policies) as Policy[];
const warmupKeys = ['warmupIters', 'warmupStartLr'] as const;
/** Every option key some policy reads. */
export const allScheduleKeys: readonly string[] = [...new Set([...Object.values(policies).flatMap((p) => p.keys), ...warmupKeys])];

/** `maxLr` -> `--max-lr`: how the CLI and the train command name options. */
export const flagNaming: Naming = (key) => '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

export function isPolicy(name: string): name is Policy {
  return Object.prototype.hasOwnProperty.call(policies, name);
}

/** The closest policy name: by edit distance, else the longest shared prefix (>= 4 letters). */
export function suggestPolicy(name: string): Policy | undefined {
  const near = closest(name.toLowerCase(), policyNames) as Policy | undefined;
  if (near) return near;
  let best: Policy | undefined, bestLen = 3;
  for (const p of policyNames) {
    let n = 0;
    while (n < p.length && n < name.length && p[n] === name[n]!.toLowerCase()) n++;
    if (n > bestLen) { best = p; bestLen = n; }
  }
  return best;
}

function checkPolicy(policy: unknown, naming: Naming): Policy {
  if (typeof policy !== 'string' || policy === '') {
    throw expected(naming('policy'), `a policy (one of ${policyNames.join('|')})`, policy ?? 'nothing', 'invalid_config');
  }
  if (!isPolicy(policy)) {
    const hint = suggestPolicy(policy);
    throw new LosstopoError(
      { code: 'invalid_config', path: naming('policy'), expected: `one of ${policyNames.join('|')}`, received: JSON.stringify(policy) },
      `unknown policy ${JSON.stringify(policy)}${hint ? `; did you mean ${hint}?` : ''} (policies: ${policyNames.join(', ')})`,
    );
  }
  return policy;
}

/**
 * Checks `options` against the policy and fills every default. Keys whose value is undefined are
 * ignored; any other key the policy does not read is an error.
 */
export function resolveSchedule(policy: string, options: Record<string, unknown> = {}, naming: Naming = flagNaming): ScheduleConfig {
  const name = checkPolicy(policy, naming);
  const p = policies[name];
  const accepted = new Set<string>([...p.keys, ...warmupKeys]);
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || key === 'policy') continue;
    if (!accepted.has(key)) {
      const known = allScheduleKeys.includes(key);
      throw new LosstopoError(
        { code: 'invalid_config', path: naming(key), received: String(value) },
        known
          ? `does not apply to policy ${name} (its options: ${p.keys.map(naming).join(' ')})`
          : `is not a schedule option${closest(key, allScheduleKeys) ? `; did you mean ${naming(closest(key, allScheduleKeys)!)}?` : ''}`,
      );
    }
  }
  const own = p.resolve(options, naming);
  const ck = new Checker(naming);
  const warmupIters = ck.int(options, 'warmupIters', 0, 0);
  const warmupStartLr = ck.nonNegative(options, 'warmupStartLr', 0);
  if (warmupStartLr > 0 && warmupIters === 0) {
    ck.contradiction('warmupStartLr', `no warm-up start LR without ${naming('warmupIters')} > 0`, options.warmupStartLr);
  }
  return { ...own, warmupIters, warmupStartLr };
}

/**
 * Builds the schedule of a config. The config is resolved again first (resolving is idempotent),
 * so a hand-written or stored config is checked as strictly as CLI options.
 */
export function scheduleFromConfig(config: ScheduleConfig, naming: Naming = flagNaming): Schedule {
  const { policy, ...rest } = config as ScheduleConfig & Record<string, unknown>;
  const c = resolveSchedule(policy, rest, naming);
  const s = policies[c.policy].build(c);
  return c.warmupIters > 0 ? withWarmup(s, { steps: c.warmupIters, initLr: c.warmupStartLr }) : s;
}

/** A policy name plus plain options -> the schedule (what the trainer uses). */
export function makeSchedule(policy: string, options: Record<string, unknown> = {}, naming: Naming = flagNaming): Schedule {
  return scheduleFromConfig(resolveSchedule(policy, options, naming), naming);
}
