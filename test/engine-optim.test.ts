import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Optimizer, Tensor, tidy, type OptimizerKind, type MomentumForm } from '../src/engine/index.js';
import { close, noLeak, seeded } from './helpers/engine.js';

/**
 * Hand-computed reference updates in plain JS for a parameter vector with a fixed gradient
 * sequence. The LR and momentum change every step, so the two momentum forms must differ.
 */
function reference(kind: OptimizerKind, form: MomentumForm, w0: Float64Array, grads: Float64Array[], lrs: number[], moms: number[], wd: number): Float64Array {
  const w = w0.slice();
  const n = w.length;
  const v = new Float64Array(n), v2 = new Float64Array(n);
  grads.forEach((g, t) => {
    const lr = lrs[t]!, m = moms[t]!;
    for (let i = 0; i < n; i++) {
      const d = g[i]! + wd * w[i]!;
      if (kind === 'sgd' && form === 'caffe') { v[i] = m * v[i]! + lr * d; w[i]! -= v[i]!; }
      else if (kind === 'sgd') { v[i] = m * v[i]! + d; w[i]! -= lr * v[i]!; }
      else if (kind === 'nesterov' && form === 'caffe') { const prev = v[i]!; v[i] = m * v[i]! + lr * d; w[i]! -= (1 + m) * v[i]! - m * prev; }
      else if (kind === 'nesterov') { v[i] = m * v[i]! + d; w[i]! -= lr * (d + m * v[i]!); }
      else if (kind === 'adam') {
        const b2 = 0.999, eps = 1e-8, step = t + 1;
        v[i] = m * v[i]! + (1 - m) * d; v2[i] = b2 * v2[i]! + (1 - b2) * d * d;
        w[i]! -= (lr * (v[i]! / (1 - m ** step))) / (Math.sqrt(v2[i]!) / Math.sqrt(1 - b2 ** step) + eps);
      } else if (kind === 'adagrad') { v[i]! += d * d; w[i]! -= (lr * d) / (Math.sqrt(v[i]!) + 1e-10); }
      else if (kind === 'adadelta') {
        const rho = 0.9, eps = 1e-6;
        v[i] = rho * v[i]! + (1 - rho) * d * d;
        const delta = (Math.sqrt(v2[i]! + eps) / Math.sqrt(v[i]! + eps)) * d;
        v2[i] = rho * v2[i]! + (1 - rho) * delta * delta;
        w[i]! -= lr * delta;
      }
    }
  });
  return w;
}

function runNative(kind: OptimizerKind, form: MomentumForm, w0: Float64Array, grads: Float64Array[], lrs: number[], moms: number[], wd: number): Float64Array {
  return tidy(() => {
    const w = Tensor.fromData(w0.slice(), [w0.length]).setRequiresGrad(true);
    const opt = new Optimizer(kind, [{ params: [w] }], { momentumForm: form });
    grads.forEach((g, t) => {
      w.grad = Tensor.fromData(g, [g.length]);
      opt.step({ lr: lrs[t]!, momentum: moms[t]!, weightDecay: wd });
    });
    return w.toFloat64();
  });
}

const steps = 6;
const w0 = seeded(5, 1);
const grads = Array.from({ length: steps }, (_, t) => seeded(5, 10 + t));
const lrs = [0.1, 0.5, 0.05, 0.3, 1.0, 0.2];
const moms = [0.95, 0.85, 0.9, 0.8, 0.99, 0.9];

for (const kind of ['sgd', 'nesterov', 'adam', 'adagrad', 'adadelta'] as const) {
  for (const form of kind === 'sgd' || kind === 'nesterov' ? (['caffe', 'pytorch'] as const) : (['pytorch'] as const)) {
    test(`${kind} (${form} form) matches hand-computed updates with LR and momentum changing every step`, () => noLeak(() => {
      close(runNative(kind, form, w0, grads, lrs, moms, 1e-2), reference(kind, form, w0, grads, lrs, moms, 1e-2), 1e-12, kind);
    }));
  }
}

test('the two momentum forms differ when the LR changes, and agree when it is constant', () => noLeak(() => {
  const a = runNative('sgd', 'caffe', w0, grads, lrs, moms, 0), b = runNative('sgd', 'pytorch', w0, grads, lrs, moms, 0);
  assert.ok(Math.max(...a.map((x, i) => Math.abs(x - b[i]!))) > 1e-3);
  const c = runNative('sgd', 'caffe', w0, grads, lrs.map(() => 0.1), moms.map(() => 0.9), 0);
  const d = runNative('sgd', 'pytorch', w0, grads, lrs.map(() => 0.1), moms.map(() => 0.9), 0);
  close(c, d, 1e-12, 'constant LR');
}));

test('setting momentum really takes effect (unlike tfjs setMomentum)', () => noLeak(() => {
  const hi = runNative('sgd', 'caffe', w0, grads, lrs, moms.map(() => 0.95), 0);
  const lo = runNative('sgd', 'caffe', w0, grads, lrs, moms.map(() => 0.0), 0);
  assert.ok(Math.max(...hi.map((x, i) => Math.abs(x - lo[i]!))) > 1e-2);
  close(lo, reference('sgd', 'caffe', w0, grads, lrs, moms.map(() => 0), 0), 1e-12, 'momentum 0');
}));

test('parameter groups apply lr_mult and decay_mult (biases at 2x LR, no decay)', () => noLeak(() => tidy(() => {
  const w = Tensor.fromData(Float64Array.from([1, 2]), [2]).setRequiresGrad(true);
  const b = Tensor.fromData(Float64Array.from([3]), [1]).setRequiresGrad(true);
  const opt = new Optimizer('sgd', [{ params: [w] }, { params: [b], lrMult: 2, decayMult: 0 }], { momentumForm: 'caffe' });
  w.grad = Tensor.fromData(Float64Array.from([0.5, -1]), [2]);
  b.grad = Tensor.fromData(Float64Array.from([0.25]), [1]);
  opt.step({ lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
  close(w.toFloat64(), [1 - 0.1 * (0.5 + 0.01), 2 - 0.1 * (-1 + 0.02)], 1e-12, 'w');
  close(b.toFloat64(), [3 - 0.2 * 0.25], 1e-12, 'b');
})));

test('gradient clipping scales by clip/||g|| as Caffe does and returns the norm', () => noLeak(() => tidy(() => {
  const w = Tensor.fromData(Float64Array.from([0, 0]), [2]).setRequiresGrad(true);
  const opt = new Optimizer('sgd', [{ params: [w] }]);
  w.grad = Tensor.fromData(Float64Array.from([3, 4]), [2]);
  const norm = opt.step({ lr: 1, momentum: 0, weightDecay: 0, clipGradients: 1 });
  assert.equal(norm, 5);
  close(w.toFloat64(), [-0.6, -0.8], 1e-12, 'clipped');
})));

test('optimizer state round-trips: a restored optimizer continues exactly', () => noLeak(() => {
  for (const kind of ['sgd', 'adam', 'adadelta'] as const) tidy(() => {
    const w = Tensor.fromData(w0.slice(), [5]).setRequiresGrad(true);
    const opt = new Optimizer(kind, [{ params: [w] }]);
    for (let t = 0; t < 3; t++) { w.grad = Tensor.fromData(grads[t]!, [5]); opt.step({ lr: lrs[t]!, momentum: moms[t]!, weightDecay: 0 }); }
    const saved = opt.state();
    const wSaved = w.toFloat64();
    assert.equal(saved.steps, 3);
    const w2 = Tensor.fromData(wSaved.slice(), [5]).setRequiresGrad(true);
    const opt2 = new Optimizer(kind, [{ params: [w2] }]);
    opt2.loadState(saved);
    for (let t = 3; t < 6; t++) {
      for (const [p, o] of [[w, opt], [w2, opt2]] as const) { p.grad = Tensor.fromData(grads[t]!, [5]); o.step({ lr: lrs[t]!, momentum: moms[t]!, weightDecay: 0 }); }
    }
    assert.deepEqual([...w2.toFloat64()], [...w.toFloat64()], kind);
  });
}));
