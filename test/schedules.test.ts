/**
 * Schedules: closed forms at chosen iterations (tolerance 1e-12 relative unless stated), the
 * composition primitives, the registry (defaults, idempotent resolution) and bad config.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LosstopoError } from '../src/errors.js';
import {
  constant, cosine, join, linear, makeCyclic, makeExpRange, makeFitOneCycle, makeMultistep, makeOneCycle, makeRange,
  makeSchedule, makeSgdr, makeStep, makeTriangular, makeTriangular2, multistepLandings, parseIterSpec, policyNames,
  resolveSchedule, scheduleFromConfig, sequence, withMomentum, withWarmup, type Schedule,
} from '../src/schedules/index.js';

const near = (got: number | null, want: number, tol = 1e-12): void => {
  assert.ok(got !== null && Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `got ${got}, want ${want}`);
};
const lr = (s: Schedule, iter: number): number => s(iter).lr;

/** Runs fn and checks it throws one LosstopoError whose formatted line names `path` and matches `re`. */
function throwsNaming(fn: () => unknown, path: string, re?: RegExp): LosstopoError {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  assert.ok(err instanceof LosstopoError, `expected a LosstopoError, got ${String(err)}`);
  assert.equal(err.info.path, path, err.format());
  assert.ok(!err.format().includes('\n'), 'one line');
  if (re) assert.match(err.format(), re);
  return err;
}

describe('Caffe policies (sgd_solver.cpp GetLearningRate)', () => {
  test('fixed: base_lr, with the constant momentum when given and null otherwise', () => {
    assert.deepEqual(makeSchedule('fixed', { baseLr: 0.01 })(12345), { lr: 0.01, momentum: null });
    assert.deepEqual(makeSchedule('fixed', { baseLr: 0.01, momentum: 0.9 })(0), { lr: 0.01, momentum: 0.9 });
  });
  test('step: base_lr * gamma^floor(iter/stepsize)', () => {
    const s = makeStep({ baseLr: 0.1, gamma: 0.1, stepsize: 30 });
    near(lr(s, 0), 0.1); near(lr(s, 29), 0.1); near(lr(s, 30), 0.01); near(lr(s, 59), 0.01); near(lr(s, 95), 0.0001);
  });
  test('multistep: the authors\' baseline 0.35, x0.1 at 50k and 70k', () => {
    const s = makeMultistep({ baseLr: 0.35, gamma: 0.1, stepvalue: [50000, 70000] });
    near(lr(s, 0), 0.35); near(lr(s, 49999), 0.35); near(lr(s, 50000), 0.035); near(lr(s, 69999), 0.035); near(lr(s, 70000), 0.0035); near(lr(s, 80000), 0.0035);
  });
  test('multistep: at most one step per iteration, as Caffe\'s current_step_', () => {
    assert.deepEqual(multistepLandings([10, 10, 5, 40]), [10, 11, 12, 40]);
    const s = makeMultistep({ baseLr: 1, gamma: 0.5, stepvalue: [10, 10, 5, 40] });
    near(lr(s, 9), 1); near(lr(s, 10), 0.5); near(lr(s, 11), 0.25); near(lr(s, 12), 0.125); near(lr(s, 39), 0.125); near(lr(s, 40), 0.0625);
  });
  test('exp, inv, poly, sigmoid', () => {
    near(lr(makeSchedule('exp', { baseLr: 0.1, gamma: 0.99 }), 100), 0.1 * 0.99 ** 100);
    near(lr(makeSchedule('inv', { baseLr: 0.01, gamma: 1e-4, power: 0.75 }), 10000), 0.01 * 2 ** -0.75);
    const poly = makeSchedule('poly', { baseLr: 0.1, power: 2, maxIter: 100 });
    near(lr(poly, 50), 0.025); near(lr(poly, 100), 0); near(lr(poly, 150), 0);
    const sig = makeSchedule('sigmoid', { baseLr: 0.1, gamma: -0.05, stepsize: 100 });
    near(lr(sig, 100), 0.05); assert.ok(lr(sig, 0) > 0.099 && lr(sig, 300) < 0.001);
  });
  test('poly with power 0 is constant, as Caffe (pow(0, 0) = 1)', () => {
    near(lr(makeSchedule('poly', { baseLr: 0.1, power: 0, maxIter: 100 }), 100), 0.1);
  });
});

describe("Smith's cyclical policies (his Caffe fork)", () => {
  test('triangular: the Fig. 1a run, 0.1..3 with stepsize 5000', () => {
    const s = makeTriangular({ baseLr: 0.1, maxLr: 3, stepsize: 5000 });
    near(lr(s, 0), 0.1); near(lr(s, 100), 0.158); near(lr(s, 2500), 1.55); near(lr(s, 5000), 3); near(lr(s, 7500), 1.55);
    near(lr(s, 10000), 0.1); near(lr(s, 15000), 3);
  });
  test('triangular2 halves the amplitude every cycle', () => {
    const s = makeTriangular2({ baseLr: 0, maxLr: 1, stepsize: 10 });
    near(lr(s, 10), 1); near(lr(s, 20), 0); near(lr(s, 30), 0.5); near(lr(s, 50), 0.25); near(lr(s, 55), 0.125);
  });
  test('exp_range multiplies the amplitude by gamma^iter', () => {
    const s = makeExpRange({ baseLr: 0.1, maxLr: 1, stepsize: 10, gamma: 0.99 });
    near(lr(s, 10), 0.1 + 0.9 * 0.99 ** 10); near(lr(s, 30), 0.1 + 0.9 * 0.99 ** 30); near(lr(s, 20), 0.1);
  });
});

describe('PyTorch schedulers', () => {
  test('CyclicLR triangular: halfway up, LR and momentum at their midpoints; defaults 2000 / 0.8..0.9', () => {
    const s = makeCyclic({ baseLr: 0.1, maxLr: 1, stepSizeUp: 10 });
    near(lr(s, 5), 0.55); near(s(5).momentum!, 0.85); near(lr(s, 10), 1); near(s(10).momentum!, 0.8); near(lr(s, 20), 0.1); near(s(20).momentum!, 0.9);
    const d = makeSchedule('cyclic', { baseLr: 0.1, maxLr: 3 });
    near(lr(d, 2000), 3); near(lr(d, 4000), 0.1); near(d(2000).momentum!, 0.8);
  });
  test('CyclicLR defaults are resolved as PyTorch documents them', () => {
    assert.deepEqual(resolveSchedule('cyclic', { baseLr: 0.1, maxLr: 1 }), {
      policy: 'cyclic', baseLr: 0.1, maxLr: 1, stepSizeUp: 2000, stepSizeDown: 2000, mode: 'triangular', gamma: 1, scaleMode: 'cycle',
      cycleMomentum: true, baseMomentum: 0.8, maxMomentum: 0.9, momentum: null, warmupIters: 0, warmupStartLr: 0,
    });
    const r = resolveSchedule('cyclic', { baseLr: 0.1, maxLr: 1, mode: 'exp_range' });
    assert.equal(r.policy === 'cyclic' && r.scaleMode, 'iterations');
  });
  test('CyclicLR without cycle momentum reports the constant momentum (or null)', () => {
    assert.equal(makeSchedule('cyclic', { baseLr: 0.1, maxLr: 1, cycleMomentum: false })(3).momentum, null);
    assert.equal(makeSchedule('cyclic', { baseLr: 0.1, maxLr: 1, cycleMomentum: false, momentum: 0.9 })(3).momentum, 0.9);
  });
  test('OneCycleLR: max/div at 0, max at pct_start*T - 1, max/(div*final_div) at T - 1; momentum mirrored', () => {
    const s = makeOneCycle({ maxLr: 1, totalSteps: 100 });
    near(lr(s, 0), 1 / 25); near(s(0).momentum!, 0.95);
    near(lr(s, 29), 1); near(s(29).momentum!, 0.85);
    near(lr(s, 99), 1 / 25 / 1e4); near(s(99).momentum!, 0.95);
  });
  test('OneCycleLR three_phase: back to initial at 2*pct*T - 2, then annihilation', () => {
    const s = makeOneCycle({ maxLr: 3, totalSteps: 100, threePhase: true, annealStrategy: 'linear' });
    near(lr(s, 29), 3); near(lr(s, 58), 3 / 25); near(lr(s, 99), 3 / 25 / 1e4); near(s(58).momentum!, 0.95);
  });
  test('OneCycleLR is undefined past total_steps, as in PyTorch', () => {
    const s = makeOneCycle({ maxLr: 1, totalSteps: 100 });
    s(100);
    throwsNaming(() => s(101), 'iter', /total_steps \(100\)/);
  });
  test('OneCycleLR refuses a zero-length first phase (PyTorch: ZeroDivisionError)', () => {
    throwsNaming(() => makeSchedule('one_cycle', { maxLr: 1, totalSteps: 10, pctStart: 0.1 }), '--pct-start', /zero length/);
  });
  test('CosineAnnealingWarmRestarts: half-way is the mean of eta_max and eta_min; restarts at T_0, T_0(1+T_mult), ...', () => {
    const s = makeSgdr({ baseLr: 0.1, t0: 10, etaMin: 0.01 });
    near(lr(s, 5), 0.055); near(lr(s, 10), 0.1); near(lr(s, 25), 0.055);
    const m = makeSgdr({ baseLr: 1, t0: 5, tMult: 2 });
    for (const restart of [0, 5, 15, 35, 75]) near(lr(m, restart), 1);
    near(lr(m, 25), 0.5); // 10 into a 20-iteration period
  });
});

describe('fastai shapes', () => {
  test('fit_one_cycle: max/div -> max at pct_start -> towards max/div_final; moms 0.95/0.85/0.95', () => {
    const s = makeFitOneCycle({ maxLr: 1, totalSteps: 100 });
    near(lr(s, 0), 1 / 25); near(s(0).momentum!, 0.95);
    near(lr(s, 25), 1); near(s(25).momentum!, 0.85);
    near(lr(s, 100), 1e-5); near(s(100).momentum!, 0.95);
    near(lr(s, 12.5), (1 / 25 + 1) / 2);
  });
  test('range linear is triangular with stepsize = max_iter (the authors\' range tests)', () => {
    const s = makeRange({ baseLr: 0, maxLr: 3, maxIter: 20000 });
    near(lr(s, 0), 0); near(lr(s, 100), 0.015); near(lr(s, 10000), 1.5); near(lr(s, 20000), 3); near(lr(s, 30000), 1.5);
  });
  test('range exp is fastai lr_find: geometric from base to max, held after max_iter', () => {
    const s = makeRange({ baseLr: 1e-7, maxLr: 10, maxIter: 100, stepMode: 'exp' });
    near(lr(s, 0), 1e-7); near(lr(s, 50), Math.sqrt(1e-7 * 10)); near(lr(s, 100), 10); near(lr(s, 150), 10);
  });
});

describe('composition', () => {
  test('join gives each segment the iteration relative to its boundary', () => {
    const s = join([constant(1), (it) => ({ lr: it, momentum: null })], [10]);
    assert.equal(lr(s, 9), 1); assert.equal(lr(s, 10), 0); assert.equal(lr(s, 15), 5);
  });
  test('sequence: linear up, cosine down, then constant', () => {
    const s = sequence([
      { schedule: linear({ initLr: 0, endLr: 1, steps: 10 }), steps: 10 },
      { schedule: cosine({ initLr: 1, endLr: 0, steps: 20 }), steps: 20 },
      { schedule: constant(0.001), steps: 1 },
    ]);
    near(lr(s, 5), 0.5); near(lr(s, 10), 1); near(lr(s, 20), 0.5); near(lr(s, 30), 0.001); near(lr(s, 1e9), 0.001);
  });
  test('linear and cosine carry momentum when both ends are given', () => {
    near(linear({ initLr: 0, endLr: 1, steps: 10, initMomentum: 0.95, endMomentum: 0.85 })(5).momentum!, 0.9);
    assert.equal(cosine({ initLr: 0, endLr: 1, steps: 10 })(5).momentum, null);
    assert.throws(() => linear({ initLr: 0, endLr: 1, steps: 10, initMomentum: 0.9 }), LosstopoError);
  });
  test('warm-up: linear to the schedule\'s first value, then the schedule on relative iterations', () => {
    const s = withWarmup(makeStep({ baseLr: 0.1, gamma: 0.1, stepsize: 30, momentum: 0.9 }), { steps: 100 });
    near(lr(s, 50), 0.05); assert.equal(s(50).momentum, 0.9); near(lr(s, 100), 0.1); near(lr(s, 129), 0.1); near(lr(s, 130), 0.01);
    const r = makeSchedule('step', { baseLr: 0.1, gamma: 0.1, stepsize: 30, warmupIters: 100, warmupStartLr: 0.02 });
    near(lr(r, 0), 0.02); near(lr(r, 50), 0.06); near(lr(r, 130), 0.01);
  });
  test('withMomentum replaces the momentum', () => {
    assert.deepEqual(withMomentum(constant(0.1), 0.9)(7), { lr: 0.1, momentum: 0.9 });
  });
  test('edge cases: zero steps, bad boundaries', () => {
    assert.throws(() => linear({ initLr: 0, endLr: 1, steps: 0 }), LosstopoError);
    assert.throws(() => join([constant(1), constant(2)], [5, 6]), LosstopoError);
    assert.throws(() => join([constant(1), constant(2), constant(3)], [5, 5]), LosstopoError);
    assert.throws(() => join([], []), LosstopoError);
    const same = constant(0.3);
    assert.equal(withWarmup(same, { steps: 0 }), same);
  });
  test('schedules are pure: any order, any number of times, 1e10 iterations', () => {
    const s = makeSchedule('triangular', { baseLr: 0.1, maxLr: 3, stepsize: 5000 });
    const a = [7777, 0, 12345, 7777].map((i) => lr(s, i));
    assert.equal(a[0], a[3]);
    near(lr(s, 1e10), 0.1);
    assert.ok(Number.isFinite(lr(makeSchedule('sgdr', { baseLr: 1, t0: 3, tMult: 2 }), 1e10)));
  });
});

describe('registry', () => {
  const fixture = JSON.parse(readFileSync(new URL('./fixtures/schedules/pytorch.json', import.meta.url), 'utf8')) as { cases: { policy: string; options: Record<string, unknown> }[] };
  test('every policy is reachable and resolving a resolved config gives it back unchanged', () => {
    const seen = new Set<string>();
    for (const c of fixture.cases) {
      const r = resolveSchedule(c.policy, c.options);
      assert.deepEqual(resolveSchedule(r.policy, r as unknown as Record<string, unknown>), r);
      assert.equal(scheduleFromConfig(r)(2).lr, makeSchedule(c.policy, c.options)(2).lr);
      seen.add(c.policy);
    }
    for (const p of policyNames) assert.ok(seen.has(p), `fixture covers ${p}`);
  });
  test('resolved configs are plain JSON (for run.json)', () => {
    const r = resolveSchedule('one_cycle', { maxLr: 1, totalSteps: 10 });
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  });
});

describe('bad config: one line naming the option and the value', () => {
  test('unknown policy suggests the closest', () => {
    const e = throwsNaming(() => makeSchedule('triangle', {}), '--policy', /did you mean triangular\?/);
    assert.equal(e.info.code, 'invalid_config');
    throwsNaming(() => makeSchedule('one-cycle', {}), '--policy', /did you mean one_cycle\?/);
  });
  test('max below base', () => {
    throwsNaming(() => makeSchedule('triangular', { baseLr: 1, maxLr: 0.5, stepsize: 10 }), '--max-lr', /expected a value >= --base-lr \(1\), received 0\.5/);
    throwsNaming(() => makeSchedule('cyclic', { baseLr: 1, maxLr: 0.5 }), '--max-lr');
    throwsNaming(() => makeSchedule('range', { baseLr: 2, maxLr: 1, maxIter: 10 }), '--max-lr');
    throwsNaming(() => makeSchedule('cyclic', { baseLr: 0.1, maxLr: 1, baseMomentum: 0.95, maxMomentum: 0.85 }), '--max-momentum');
    throwsNaming(() => makeSchedule('sgdr', { baseLr: 0.1, t0: 5, etaMin: 0.2 }), '--base-lr');
  });
  test('non-positive stepsizes', () => {
    throwsNaming(() => makeSchedule('step', { baseLr: 1, gamma: 0.1, stepsize: 0 }), '--stepsize', /positive integer, received 0/);
    throwsNaming(() => makeSchedule('triangular', { baseLr: 0, maxLr: 1, stepsize: -5 }), '--stepsize');
    throwsNaming(() => makeSchedule('cyclic', { baseLr: 0, maxLr: 1, stepSizeUp: 0 }), '--step-size-up');
    throwsNaming(() => makeSchedule('sgdr', { baseLr: 1, t0: 0 }), '--t0');
    throwsNaming(() => makeSchedule('sgdr', { baseLr: 1, t0: 5, tMult: 0 }), '--t-mult');
  });
  test('pct_start outside (0, 1), including the ends', () => {
    for (const p of [0, 1, -0.1, 1.5]) {
      throwsNaming(() => makeSchedule('one_cycle', { maxLr: 1, totalSteps: 100, pctStart: p }), '--pct-start', /strictly between 0 and 1/);
      throwsNaming(() => makeSchedule('fit_one_cycle', { maxLr: 1, totalSteps: 100, pctStart: p }), '--pct-start');
    }
  });
  test('missing required options name the policy', () => {
    throwsNaming(() => makeSchedule('one_cycle', { maxLr: 1 }), '--total-steps', /required by policy one_cycle.*received nothing/);
    throwsNaming(() => makeSchedule('step', { baseLr: 0.1, stepsize: 10 }), '--gamma', /required by policy step/);
    throwsNaming(() => makeSchedule('multistep', { baseLr: 0.1, gamma: 0.1 }), '--stepvalue');
    throwsNaming(() => makeSchedule('triangular', { baseLr: 0.1, stepsize: 10 }), '--max-lr');
  });
  test('options that do not apply, unknown options, contradictions', () => {
    throwsNaming(() => makeSchedule('one_cycle', { maxLr: 1, totalSteps: 10, stepsize: 5 }), '--stepsize', /does not apply to policy one_cycle/);
    throwsNaming(() => makeSchedule('fixed', { baseLr: 1, maxLR: 2 }), '--max-l-r', /not a schedule option; did you mean --max-lr\?/);
    throwsNaming(() => makeSchedule('one_cycle', { maxLr: 1, totalSteps: 10, momentum: 0.9 }), '--momentum', /--cycle-momentum/);
    throwsNaming(() => makeSchedule('fixed', { baseLr: 1, warmupStartLr: 0.1 }), '--warmup-start-lr', /--warmup-iters/);
    throwsNaming(() => makeSchedule('range', { baseLr: 0, maxLr: 1, maxIter: 10, stepMode: 'exp' }), '--base-lr', /> 0/);
    throwsNaming(() => makeSchedule('fit_one_cycle', { maxLr: 1, totalSteps: 10, moms: [0.9, 0.8] }), '--moms');
  });
  test('wrong types from config files', () => {
    throwsNaming(() => makeSchedule('fixed', { baseLr: '0.1' }), '--base-lr', /a number >= 0, received "0\.1"/);
    throwsNaming(() => makeSchedule('cyclic', { baseLr: 0, maxLr: 1, mode: 'triangle' }), '--mode', /one of triangular\|triangular2\|exp_range/);
    throwsNaming(() => makeSchedule('one_cycle', { maxLr: 1, totalSteps: 10.5 }), '--total-steps');
    throwsNaming(() => makeSchedule('fixed', { baseLr: 1, momentum: 1.5 }), '--momentum', /\[0, 1\]/);
  });
  test('a custom naming (solver fields) is used in messages', () => {
    throwsNaming(() => resolveSchedule('step', { baseLr: 1, gamma: 0.1, stepsize: 0 }, (k) => k === 'stepsize' ? 'stepsize' : k), 'stepsize');
  });
});

describe('--iters SPEC', () => {
  test('lists and inclusive ranges', () => {
    assert.deepEqual(parseIterSpec('0,100,5000'), [0, 100, 5000]);
    assert.deepEqual(parseIterSpec('0:10:5'), [0, 5, 10]);
    assert.deepEqual(parseIterSpec('0:10:3'), [0, 3, 6, 9]);
    assert.deepEqual(parseIterSpec('3:5'), [3, 4, 5]);
    assert.deepEqual(parseIterSpec('7:7:100'), [7]);
  });
  test('bad specs name --iters', () => {
    for (const bad of ['', 'a', '-1', '1.5', '10:0', '0:10:0', '0:1:2:3', '0,,5', '0:1000000000:1']) {
      throwsNaming(() => parseIterSpec(bad), '--iters');
    }
  });
});
