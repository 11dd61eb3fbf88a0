/** Pure analysis of the experiments on synthetic curves: range-test suggestions, barrier, flatness. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clrBounds, movingAverage, smoothLosses, steepestIndex, suggest, valleyIndex, type RangePoint } from '../src/experiments/range-test.js';
import { alphaGrid, barrierHeight, flatnessWidth, minimumAlpha, parseAlphas, summarizeCurve } from '../src/experiments/interpolation.js';
import { itersToTarget, resolveCompare } from '../src/experiments/compare.js';

test('smoothLosses is fastai AvgSmoothLoss (bias-corrected): a constant stays constant, first value is the loss', () => {
  assert.deepEqual(smoothLosses([2, 2, 2], 0.98).map((v) => +v.toFixed(12)), [2, 2, 2]);
  const s = smoothLosses([1, 3], 0.5);
  assert.equal(s[0], 1);
  assert.equal(s[1], (0.5 * 0.5 * 1 + 0.5 * 3) / (1 - 0.25));
});

test('clrBounds: accuracy rising from chance then falling gives base at the rise and max at the peak before the drop', () => {
  const lrs = Array.from({ length: 21 }, (_, i) => i * 0.05);
  // chance 0.1 until lr 0.2, rises linearly to 0.8 at lr 0.6, then falls to 0.2
  const acc = lrs.map((lr) => (lr <= 0.2 ? 0.1 : lr <= 0.6 ? 0.1 + (0.7 * (lr - 0.2)) / 0.4 : 0.8 - 1.5 * (lr - 0.6)));
  const b = clrBounds(lrs, acc, 10)!;
  assert.ok(b.base > 0.2 - 1e-9 && b.base <= 0.3, `base ${b.base}`);
  assert.ok(Math.abs(b.max - 0.6) < 0.051, `max ${b.max}`);
  // monotone: max is the peak (the last point)
  const m = clrBounds(lrs, lrs.map((lr) => 0.1 + lr * 0.8), 10)!;
  assert.equal(m.max, 1);
  // never above chance: no suggestion
  assert.equal(clrBounds(lrs, lrs.map(() => 0.1), 10), null);
  // coarse evaluations: the untrained first point is not the base although its smoothed value
  // (pulled up by its neighbour) passes the threshold, as in the cpu-scale CIFAR range test
  const coarse = [0.001, 0.034, 0.067, 0.1, 0.134, 0.167];
  assert.equal(clrBounds(coarse, [0.1, 0.29, 0.31, 0.21, 0.52, 0.44], 10)!.base, 0.034);
  assert.deepEqual(movingAverage([0, 3, 0]), [1.5, 1, 1.5]);
});

test('valley finds the longest descending stretch and steepest the steepest slope in log LR', () => {
  // loss: flat 3, then a long descent from index 10 to 40, then a rise
  const n = 60;
  const lrs = Array.from({ length: n }, (_, i) => 1e-4 * 10 ** (i / 10));
  const loss = lrs.map((_, i) => (i < 10 ? 3 : i <= 40 ? 3 - (i - 10) * 0.08 : 0.6 + (i - 40) * 0.3));
  const v = valleyIndex(loss)!;
  // fastai: start + 1/3 + 1/6 of the (end - start) span (start = end - lds[end] = 40 - 31 = 9)
  assert.equal(v, 9 + Math.trunc(31 / 3) + Math.trunc(31 / 3 / 2));
  const s = steepestIndex(lrs, loss)!;
  assert.ok(s >= 10 && s < 40, `steepest index ${s}`);
  assert.equal(steepestIndex([0, 1e-3, 1e-2], [1, 1, 0.5]), 1, 'LR 0 is skipped (log)');
});

test('suggest: every suggestion carries its rule; the final evaluation point without a step is tolerated', () => {
  const points: RangePoint[] = [];
  for (let i = 0; i < 100; i++) {
    const lr = i * 0.03;
    const p: RangePoint = { iter: i, lr, trainLoss: 2, smoothedLoss: i < 60 ? 2.5 - i * 0.03 : 0.7 + (i - 60) * 0.2 };
    if (i % 10 === 0) { p.testLoss = 1; p.testAccuracy = lr < 0.5 ? 0.1 : lr < 1.8 ? 0.1 + (lr - 0.5) * 0.5 : 0.2; }
    points.push(p);
  }
  points.push({ iter: 100, lr: 3, trainLoss: null, smoothedLoss: null, testLoss: 9, testAccuracy: 0.1 });
  const s = suggest(points, 10);
  for (const [k, v] of Object.entries(s)) { assert.ok(v, `${k} present`); assert.ok(v!.rule.length > 10); assert.ok(Number.isFinite(v!.lr)); }
  assert.ok(s.maxLr!.lr > s.baseLr!.lr);
  assert.deepEqual(s.baseLrFromMax!.range, [s.maxLr!.lr / 4, s.maxLr!.lr / 3]);
  assert.ok(s.valley!.lr < 1.8 && s.valley!.lr > 0.3, `valley ${s.valley!.lr}`);
});

test('barrier: found between two minima, absent on a convex curve; minimum offset and flatness width', () => {
  const alphas = alphaGrid({ start: -0.5, stop: 1.5, step: 0.05 });
  assert.equal(alphas.length, 41);
  assert.ok(alphas.includes(0) && alphas.includes(1) && alphas.includes(0.5));
  // two-minimum problem: minima at 0 and 1, a bump of height 1 at 0.5 (above the chord of 0.1 .. 0.3)
  const twoMin = alphas.map((alpha) => ({ alpha, loss: 0.1 + 0.2 * alpha + 4 * alpha * alpha * (1 - alpha) * (1 - alpha) * 4 }));
  const b = barrierHeight(twoMin);
  assert.ok(Math.abs(b.height - 1) < 1e-9, `height ${b.height}`);
  assert.equal(b.alpha, 0.5);
  // convex bowl centred at 0.6: no barrier, minimum offset found, flatness width analytic
  const bowl = alphas.map((alpha) => ({ alpha, loss: 1 + (alpha - 0.6) ** 2 }));
  assert.equal(barrierHeight(bowl).height, 0);
  assert.equal(minimumAlpha(bowl).alpha, 0.6);
  const f = flatnessWidth(bowl, 0.04);
  assert.ok(Math.abs(f.width - 0.4) < 0.01 && f.bounded, `width ${f.width}`);
  // non-finite losses (extrapolated NaN) do not poison the analysis
  const withNaN = bowl.map((p) => (p.alpha < -0.4 ? { ...p, loss: NaN } : p));
  const w = flatnessWidth(withNaN, 10);
  assert.ok(Number.isFinite(w.width) && w.left === -0.4 && w.right === 1.5 && !w.bounded, `width ${JSON.stringify(w)}`);
  assert.ok(summarizeCurve(withNaN, 0.1).barrier.height === 0);
  assert.throws(() => barrierHeight([{ alpha: 0.2, loss: 1 }]), /alpha 0 and alpha 1/);
});

test('parseAlphas: grids and lists; bad specs name the flag', () => {
  assert.deepEqual(parseAlphas('0:1:0.25'), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(parseAlphas('0,0.5,1'), [0, 0.5, 1]);
  assert.equal(parseAlphas('-0.5:1.5:0.05').length, 41);
  const named = (e: unknown): boolean => (e as { info: { path: string } }).info.path === '--alphas';
  assert.throws(() => parseAlphas('1:0:0.1'), named);
  assert.throws(() => parseAlphas('a,b'), named);
});

test('compare: configurations of both arms and iterations to target', () => {
  const r = resolveCompare({ train: { dataset: 'mnist' }, clr: { stepsize: 100, iters: 400 }, baseline: { iters: 300, stepvalue: [100, 200] } });
  assert.equal(r.clr.snapshot, 200);
  assert.equal(r.clr.maxIter, 400);
  assert.equal(r.baseline.schedule.policy, 'multistep');
  assert.equal(r.baseline.maxIter, 300);
  const oc = resolveCompare({ train: { dataset: 'mnist' }, clr: { policy: 'one_cycle', baseLr: 0.1, maxLr: 1, iters: 50 } });
  assert.equal(oc.clr.schedule.policy, 'one_cycle');
  assert.equal(oc.clr.snapshot, 5, 'a one-cycle arm snapshots every tenth of its run');
  assert.equal(itersToTarget([[0, 0.1, 2], [10, 0.5, 1], [20, 0.9, 0.5]], 0.5), 10);
  assert.equal(itersToTarget([[0, 0.1, 2]], 0.5), null);
});
