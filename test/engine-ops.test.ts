import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Tensor, tidy, keep, memory, noGrad, grad, conv2d, batchNorm, avgPool2d, globalAvgPool, cat, pad, linear, logSoftmax,
  crossEntropy, labels, zeros, ones, randn, Generator, EngineError, maxPool2d, isGradEnabled,
} from '../src/engine/index.js';
import { checkGradients, f64, noLeak, close, seeded } from './helpers/engine.js';

const weighted = (y: Tensor, seed = 99): Tensor => y.mul(f64(y.shape, seed)).sum();

test('gradients of every op match central finite differences (float64)', () => noLeak(() => {
  const cases: [string, number[][], (xs: Tensor[]) => Tensor][] = [
    ['conv2d stride 2 pad 1 with bias', [[2, 3, 5, 5], [4, 3, 3, 3], [4]], ([x, w, b]) => weighted(conv2d(x!, w!, b!, { stride: 2, padding: 1 }))],
    ['conv2d 1x1 no bias', [[2, 2, 4, 4], [3, 2, 1, 1]], ([x, w]) => weighted(conv2d(x!, w!, null))],
    ['batchNorm train', [[4, 3, 2, 2], [3], [3]], ([x, w, b]) => weighted(batchNorm(x!, { weight: w!, bias: b!, runningMean: null, runningVar: null, training: true, momentum: 0.1, eps: 1e-5 }))],
    ['relu', [[3, 4]], ([x]) => weighted(x!.relu())],
    ['add/sub/mul/div', [[3, 4], [3, 4]], ([a, b]) => weighted(a!.add(b!, 0.5).mul(b!).sub(a!).div(b!.square().add(1)))],
    ['avgPool2d 3x3/2 ceil (Caffe)', [[2, 2, 6, 6]], ([x]) => weighted(avgPool2d(x!, 3, { stride: 2, ceilMode: true }))],
    ['maxPool2d', [[1, 2, 4, 4]], ([x]) => weighted(maxPool2d(x!, 2))],
    ['globalAvgPool', [[2, 3, 3, 3]], ([x]) => weighted(globalAvgPool(x!))],
    ['cat', [[2, 3], [2, 2]], ([a, b]) => weighted(cat([a!, b!], 1))],
    ['pad', [[1, 2, 2, 2]], ([x]) => weighted(pad(x!, [1, 0, 0, 1, 1, 1], 0))],
    ['linear', [[3, 4], [5, 4], [5]], ([x, w, b]) => weighted(linear(x!, w!, b!))],
    ['logSoftmax', [[3, 5]], ([x]) => weighted(logSoftmax(x!, 1))],
    ['crossEntropy', [[4, 5]], ([x]) => crossEntropy(x!, labels([0, 3, 4, 1]))],
    ['sum/mean over dims', [[2, 3, 4]], ([x]) => weighted(x!.sum([1])).add(x!.mean([0, 2]).sum())],
    ['norm', [[3, 4]], ([x]) => x!.norm(2)],
    ['dot', [[6], [6]], ([a, b]) => a!.dot(b!)],
    ['sqrt/exp/log/tanh/sigmoid', [[5]], ([x]) => x!.square().add(1).sqrt().add(x!.exp()).add(x!.square().add(1).log()).add(x!.tanh()).add(x!.sigmoid()).sum()],
  ];
  cases.forEach(([name, shapes, fn], i) => tidy(() => {
    const inputs = shapes.map((s, k) => f64(s, 10 * i + k + 1));
    checkGradients(name, inputs, fn, { tol: name.startsWith('batchNorm') ? 1e-5 : 1e-6 });
  }));
}));

test('batch norm in training normalises by batch statistics and updates running stats (PyTorch momentum, unbiased var)', () => noLeak(() => tidy(() => {
  const data = seeded(4 * 2 * 3, 7, 2);
  const x = Tensor.fromData(data, [4, 2, 3, 1]);
  const rm = zeros([2], 'float64'), rv = ones([2], 'float64');
  const y = batchNorm(x, { weight: null, bias: null, runningMean: rm, runningVar: rv, training: true, momentum: 0.1, eps: 1e-5 }).toFloat64();
  for (let c = 0; c < 2; c++) {
    const vals: number[] = []; const idx: number[] = [];
    for (let n = 0; n < 4; n++) for (let h = 0; h < 3; h++) { const i = n * 6 + c * 3 + h; vals.push(data[i]!); idx.push(i); }
    const mean = vals.reduce((a, b) => a + b) / vals.length;
    const varB = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length;
    const varU = (varB * vals.length) / (vals.length - 1);
    idx.forEach((i, k) => assert.ok(Math.abs(y[i]! - (vals[k]! - mean) / Math.sqrt(varB + 1e-5)) < 1e-9));
    assert.ok(Math.abs(rm.toFloat64()[c]! - 0.1 * mean) < 1e-12);
    assert.ok(Math.abs(rv.toFloat64()[c]! - (0.9 + 0.1 * varU)) < 1e-12);
  }
  // Evaluation uses the running statistics: (x - rm) / sqrt(rv + eps) * w + b.
  const w = Tensor.fromData(Float64Array.from([2, -1]), [2]), b = Tensor.fromData(Float64Array.from([0.5, 3]), [2]);
  const e = batchNorm(x, { weight: w, bias: b, runningMean: rm, runningVar: rv, training: false, momentum: 0.1, eps: 1e-5 }).toFloat64();
  const rmv = rm.toFloat64(), rvv = rv.toFloat64();
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / 3) % 2;
    const expect = ((data[i]! - rmv[c]!) / Math.sqrt(rvv[c]! + 1e-5)) * [2, -1][c]! + [0.5, 3][c]!;
    assert.ok(Math.abs(e[i]! - expect) < 1e-9);
  }
})));

test('avgPool2d with ceil mode gives Caffe output size and divides clipped border windows by their in-bounds size', () => noLeak(() => tidy(() => {
  const x = Tensor.fromData(Float64Array.from({ length: 32 * 32 }, (_, i) => i), [1, 1, 32, 32]);
  const p = avgPool2d(x, 3, { stride: 2, ceilMode: true });
  assert.deepEqual(p.shape, [1, 1, 16, 16]); // Caffe: ceil((32-3)/2)+1
  const v = p.toFloat64();
  // The last window starts at row/col 30 and covers only rows/cols 30..31.
  const last = [30 * 32 + 30, 30 * 32 + 31, 31 * 32 + 30, 31 * 32 + 31].reduce((a, b) => a + b) / 4;
  assert.equal(v[15 * 16 + 15], last);
  assert.equal(v[0], [0, 1, 2, 32, 33, 34, 64, 65, 66].reduce((a, b) => a + b) / 9);
})));

test('double backward: Hessian-vector products match finite differences of gradients', () => noLeak(() => tidy(() => {
  const x = f64([2, 2, 5, 5], 3);
  const w = f64([3, 2, 3, 3], 4, 0.5).setRequiresGrad(true);
  const v = f64([3, 2, 3, 3], 5);
  const loss = (wt: Tensor): Tensor => {
    const h = conv2d(x, wt, null, { padding: 1 });
    const b = batchNorm(h, { weight: null, bias: null, runningMean: null, runningVar: null, training: true, momentum: 0.1, eps: 1e-5 });
    return crossEntropy(globalAvgPool(b.tanh()), labels([0, 2]));
  };
  const [g] = grad([loss(w)], [w], { createGraph: true });
  const [hv] = grad([g!.mul(v).sum()], [w]);
  const eps = 1e-5;
  const gradAt = (sign: number): Float64Array => tidy(() => {
    const wp = w.detach().add(v, sign * eps).setRequiresGrad(true);
    return grad([loss(wp)], [wp])[0]!.toFloat64();
  });
  const gp = gradAt(1), gm = gradAt(-1);
  const fd = gp.map((a, i) => (a - gm[i]!) / (2 * eps));
  close(hv!.toFloat64(), fd, 1e-5, 'Hv');
})));

test('tidy disposes what it does not return, keeps what it returns or keep()s, and cleans up on throw', () => {
  const before = memory().numTensors;
  const [kept, returned] = tidy(() => {
    const a = ones([2, 2]);
    const k = keep(a.add(1));
    a.mul(3);
    return [k, a.mul(2)] as const;
  });
  assert.equal(memory().numTensors, before + 2);
  assert.deepEqual([...returned.data()], [2, 2, 2, 2]);
  assert.throws(() => tidy(() => { ones([3]); throw new Error('boom'); }), /boom/);
  assert.equal(memory().numTensors, before + 2);
  assert.throws(() => tidy(() => Promise.resolve(1) as unknown as number), /synchronous/);
  kept.dispose(); returned.dispose();
  assert.equal(memory().numTensors, before);
});

test('noGrad restores the previous mode even when its function throws', () => {
  assert.equal(isGradEnabled(), true);
  assert.throws(() => noGrad(() => { throw new Error('x'); }));
  assert.equal(isGradEnabled(), true);
  noGrad(() => assert.equal(isGradEnabled(), false));
});

test('typed arrays round-trip in every dtype, in both memory formats', () => noLeak(() => tidy(() => {
  const f32 = Tensor.fromData(new Float32Array([1.5, -2, 3, 4]), [1, 1, 2, 2]);
  assert.equal(f32.dtype, 'float32');
  assert.deepEqual([...f32.contiguous('channels_last').data()], [1.5, -2, 3, 4]);
  assert.ok(f32.contiguous('channels_last').isContiguous('channels_last'));
  const big = Tensor.fromData(new BigInt64Array([1n, -5n]), [2]);
  assert.equal(big.dtype, 'int64');
  assert.deepEqual([...(big.data() as BigInt64Array)], [1n, -5n]);
  assert.deepEqual([...Tensor.fromData(new Uint8Array([0, 255]), [2]).data()], [0, 255]);
  assert.deepEqual([...Tensor.fromData(new Float64Array([1e-300]), [1]).data()], [1e-300]);
  assert.deepEqual(f32.to('float64').dtype, 'float64');
})));

test('seeded generators are reproducible and their state restores the stream', () => noLeak(() => tidy(() => {
  const a = new Generator(42), b = new Generator(42);
  assert.deepEqual([...randn([5], a).data()], [...randn([5], b).data()]);
  const state = a.getState();
  const next = [...randn([5], a).data()];
  a.setState(state);
  assert.deepEqual([...randn([5], a).data()], next);
  assert.notDeepEqual([...randn([5], new Generator(43)).data()], [...randn([5], new Generator(42)).data()]);
})));

test('bad input gives clear JS errors, never a crash', () => noLeak(() => tidy(() => {
  const x = zeros([1, 3, 8, 8]);
  assert.throws(() => conv2d(x, zeros([4, 2, 3, 3]), null), (e: Error) => e instanceof EngineError && /x has 3 channels but weight \[4, 2, 3, 3\] expects 2/.test(e.message));
  assert.throws(() => crossEntropy(zeros([2, 3]), Tensor.fromData(new Float32Array([0, 1]), [2])), /targets must be int64, received float32/);
  assert.throws(() => zeros([2, 3]).add(zeros([4, 5])), (e: Error) => e instanceof EngineError && e.message.startsWith('binary: The size of tensor a (3) must match'));
  assert.throws(() => Tensor.fromData(new Float32Array(5), [2, 2]), /shape holds 4 elements but the data has 5/);
  const d = ones([2]);
  d.dispose();
  assert.throws(() => d.add(1), /disposed tensor/);
  assert.throws(() => zeros([2]).backward(), /does not require grad/);
})));
