/**
 * Properties of the schedules over random configs (fast-check): bounds, periodicity, the anchor
 * points of one-cycle. Tolerance: 1e-9 relative (the closed forms go through divisions such as
 * pct_start * total_steps that are not exact in binary).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeSchedule } from '../src/schedules/index.js';

const TOL = 1e-9;
const within = (v: number, lo: number, hi: number): boolean => v >= lo - TOL * Math.max(1, Math.abs(lo)) && v <= hi + TOL * Math.max(1, Math.abs(hi));
const close = (a: number, b: number): boolean => Math.abs(a - b) <= TOL * Math.max(1, Math.abs(b));
const lrValue = fc.double({ min: 0, max: 10, noNaN: true, noDefaultInfinity: true });
const runs = { numRuns: 300 };

test('triangular stays within [base, max], has period 2*stepsize, hits base at 2ks and max at (2k+1)s', () => {
  fc.assert(fc.property(lrValue, lrValue, fc.integer({ min: 1, max: 20000 }), fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 50 }),
    (a, b, stepsize, iter, k) => {
      const [baseLr, maxLr] = a <= b ? [a, b] : [b, a];
      const s = makeSchedule('triangular', { baseLr, maxLr, stepsize });
      const v = s(iter).lr;
      assert.ok(within(v, baseLr, maxLr), `${v} outside [${baseLr}, ${maxLr}]`);
      assert.ok(close(s(iter + 2 * stepsize).lr, v), 'periodic');
      assert.ok(close(s(2 * k * stepsize).lr, baseLr), 'base at 2ks');
      assert.ok(close(s((2 * k + 1) * stepsize).lr, maxLr), 'max at (2k+1)s');
    }), runs);
});

test('triangular2 stays within [base, max] and its peaks halve every cycle', () => {
  fc.assert(fc.property(lrValue, lrValue, fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 20 }),
    (a, b, stepsize, k) => {
      const [baseLr, maxLr] = a <= b ? [a, b] : [b, a];
      const s = makeSchedule('triangular2', { baseLr, maxLr, stepsize });
      const peak = s((2 * k + 1) * stepsize).lr;
      assert.ok(within(peak, baseLr, maxLr));
      assert.ok(close(peak - baseLr, (maxLr - baseLr) / 2 ** k));
    }), runs);
});

test('CyclicLR (any mode) stays within [base, max] and momentum within [base_momentum, max_momentum]', () => {
  fc.assert(fc.property(lrValue, lrValue, fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 }),
    fc.constantFrom('triangular', 'triangular2', 'exp_range'), fc.double({ min: 0.9, max: 1, noNaN: true }), fc.integer({ min: 0, max: 100_000 }),
    (a, b, up, down, mode, gamma, iter) => {
      const [baseLr, maxLr] = a <= b ? [a, b] : [b, a];
      const p = makeSchedule('cyclic', { baseLr, maxLr, stepSizeUp: up, stepSizeDown: down, mode, gamma })(iter);
      assert.ok(within(p.lr, baseLr, maxLr), `lr ${p.lr}`);
      assert.ok(p.momentum !== null && within(p.momentum, 0.8, 0.9), `momentum ${p.momentum}`);
      // LR up means momentum down: lr - base and max_m - momentum are proportional.
      if (maxLr - baseLr > 1e-6) assert.ok(Math.abs((p.lr - baseLr) / (maxLr - baseLr) - (0.9 - p.momentum) / 0.1) < 1e-6);
    }), runs);
});

test('OneCycleLR starts at max/div, peaks at max at pct_start*T - 1, ends at max/(div*final_div) at T - 1', () => {
  fc.assert(fc.property(fc.double({ min: 1e-3, max: 10, noNaN: true }), fc.integer({ min: 4, max: 20000 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }),
    fc.double({ min: 1.5, max: 100, noNaN: true }), fc.double({ min: 1, max: 1e5, noNaN: true }), fc.constantFrom('cos', 'linear'),
    (maxLr, totalSteps, frac, divFactor, finalDivFactor, annealStrategy) => {
      // An integer peak iteration, so the schedule passes exactly through it.
      const peak = Math.min(totalSteps - 2, Math.max(1, Math.round(frac * totalSteps) - 1));
      const pctStart = (peak + 1) / totalSteps;
      const s = makeSchedule('one_cycle', { maxLr, totalSteps, pctStart, divFactor, finalDivFactor, annealStrategy });
      assert.ok(close(s(0).lr, maxLr / divFactor), 'start');
      assert.ok(close(s(peak).lr, maxLr), `peak at ${peak}`);
      assert.ok(close(s(totalSteps - 1).lr, maxLr / (divFactor * finalDivFactor)), 'end');
      assert.ok(close(s(0).momentum!, 0.95) && close(s(peak).momentum!, 0.85) && close(s(totalSteps - 1).momentum!, 0.95));
      for (const it of [0, peak >> 1, peak, (peak + totalSteps) >> 1, totalSteps - 1]) assert.ok(within(s(it).lr, 0, maxLr));
    }), runs);
});

test('fit_one_cycle rises monotonically to max at pct_start*T and falls after', () => {
  fc.assert(fc.property(fc.double({ min: 1e-3, max: 10, noNaN: true }), fc.integer({ min: 10, max: 5000 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }),
    (maxLr, totalSteps, pctStart) => {
      const s = makeSchedule('fit_one_cycle', { maxLr, totalSteps, pctStart });
      const up = pctStart * totalSteps;
      let prev = -Infinity;
      for (let it = 0; it <= up; it += Math.max(1, Math.floor(up / 20))) { const v = s(it).lr; assert.ok(v >= prev - TOL); prev = v; }
      prev = Infinity;
      for (let it = Math.ceil(up); it <= totalSteps; it += Math.max(1, Math.floor(totalSteps / 20))) { const v = s(it).lr; assert.ok(v <= prev + TOL); prev = v; }
      assert.ok(close(s(totalSteps).lr, maxLr / 1e5));
    }), runs);
});

test('SGDR stays within [eta_min, base_lr] and is at base_lr right after every restart', () => {
  fc.assert(fc.property(lrValue, lrValue, fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1_000_000 }),
    (a, b, t0, tMult, iter) => {
      const [etaMin, baseLr] = a <= b ? [a, b] : [b, a];
      const s = makeSchedule('sgdr', { baseLr, t0, tMult, etaMin });
      assert.ok(within(s(iter).lr, etaMin, baseLr));
      assert.ok(close(s(t0).lr, baseLr));
    }), runs);
});

test('multistep with gamma <= 1 never increases', () => {
  fc.assert(fc.property(lrValue, fc.double({ min: 0, max: 1, noNaN: true }), fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 6 }),
    (baseLr, gamma, stepvalue) => {
      const s = makeSchedule('multistep', { baseLr, gamma, stepvalue });
      let prev = Infinity;
      for (let it = 0; it <= 1010; it += 7) { const v = s(it).lr; assert.ok(v <= prev); prev = v; }
    }), runs);
});
