/**
 * Curvature probes (issue 6): power iteration on a quadratic with a known spectrum, Hessian-vector
 * products against finite differences of gradients on a tiny float64 conv net, filter-normalised
 * directions, and on a 20-iteration MNIST resnet8 (width 0.5) checkpoint: a 1-D slice at t = 0
 * equals `evaluate`, and `probe hessian --json` / `probe slice --dims 2` through the command module.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Module, Tensor, batchNorm, conv2d, crossEntropy, globalAvgPool, grad, labels, linear, noGrad, tidy,
} from '../src/engine/index.js';
import {
  filterNormalizedDirection, hessianVectorProduct, runSliceProbe, topHessianEigenvalue,
} from '../src/experiments/curvature.js';
import { prepareEvalSets } from '../src/experiments/interpolation.js';
import { train } from '../src/train/trainer.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { evaluate } from '../src/train/evaluate.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { buildModel, resolveModel } from '../src/models/registry.js';
import { BatchLoader, makeBatchSpec } from '../src/data/index.js';
import probe from '../src/cli/commands/probe.js';
import { f64, noLeak, seeded } from './helpers/engine.js';

/** One float64 parameter vector w; the "loss" 0.5 w'Aw is supplied from outside. */
class Vector extends Module {
  readonly w: Tensor;
  constructor(n: number) { super(); this.w = this.registerParameter('w', f64([n, 1], 3)); }
  forward(x: Tensor): Tensor { return x; }
}

test('power iteration finds the top eigenvalue of a quadratic with a known spectrum (A = Q diag Q\')', () => noLeak(() => {
  const spectrum = [4, 2.5, -1.5, 1, 0.5, 0.1];
  const n = spectrum.length;
  // Q: a Householder reflection I - 2uu'/u'u (orthogonal), so A = Q diag(spectrum) Q'.
  const u = seeded(n, 11);
  const uu = u.reduce((a, x) => a + x * x, 0);
  const Q = (i: number, j: number): number => (i === j ? 1 : 0) - (2 * u[i]! * u[j]!) / uu;
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) A[i * n + j] += Q(i, k) * spectrum[k]! * Q(j, k);
  const m = new Vector(n);
  const At = Tensor.fromData(A, [n, n]);
  try {
    const lossOf = (): Tensor => m.w.mul(At.matmul(m.w)).sum().mul(0.5);
    // H = A exactly: H v equals A v.
    tidy(() => {
      const v = f64([n, 1], 5);
      const [hv] = hessianVectorProduct(m, lossOf, [v]);
      const av = At.matmul(v).toFloat64(), got = hv!.toFloat64();
      for (let i = 0; i < n; i++) assert.ok(Math.abs(got[i]! - av[i]!) < 1e-12, `Hv[${i}] ${got[i]} vs ${av[i]}`);
    });
    const r = topHessianEigenvalue(lossOf, m.parameters(), { iters: 200, tol: 1e-10, seed: 3 });
    assert.ok(Math.abs(r.eigenvalue - 4) < 1e-3, `eigenvalue ${r.eigenvalue}`);
    assert.ok(r.converged && r.iterations === r.history.length && r.iterations < 200);
    // A loss given as terms (the sum is the loss) gives the same result; the seed fixes the start.
    const half = (): Tensor => lossOf().mul(0.5);
    const r2 = topHessianEigenvalue([half, half], m.parameters(), { iters: 200, tol: 1e-10, seed: 3 });
    assert.ok(Math.abs(r2.eigenvalue - r.eigenvalue) < 1e-9);
    assert.deepEqual(topHessianEigenvalue(lossOf, m.parameters(), { iters: 5, tol: 0, seed: 3 }).history, r.history.slice(0, 5));
  } finally { At.dispose(); m.dispose(); }
}));

/** conv (3x3, bias) -> BN (eval, running stats) -> tanh -> global pool -> linear, all float64. */
class TinyNet extends Module {
  constructor() {
    super();
    this.registerParameter('conv_w', f64([3, 2, 3, 3], 21, 0.5));
    this.registerParameter('conv_b', f64([3], 22, 0.1));
    this.registerParameter('bn_w', f64([3], 23, 0.3).add(1));
    this.registerParameter('bn_b', f64([3], 24, 0.1));
    this.registerBuffer('rm', f64([3], 25, 0.1));
    this.registerBuffer('rv', f64([3], 26, 0.2).add(1));
    this.registerParameter('fc_w', f64([4, 3], 27));
    this.registerParameter('fc_b', f64([4], 28, 0.1));
  }
  forward(x: Tensor): Tensor {
    const p = new Map(this.namedParameters()), b = new Map(this.namedBuffers());
    const h = batchNorm(conv2d(x, p.get('conv_w')!, p.get('conv_b')!, { padding: 1 }),
      { weight: p.get('bn_w')!, bias: p.get('bn_b')!, runningMean: b.get('rm')!, runningVar: b.get('rv')!, training: false, momentum: 0.1, eps: 1e-5 });
    return linear(globalAvgPool(h.tanh()), p.get('fc_w')!, p.get('fc_b')!);
  }
}

test('Hessian-vector products of a tiny conv net match central differences of gradients (float64)', () => noLeak(() => tidy(() => {
  const net = new TinyNet();
  try {
    const x = f64([3, 2, 5, 5], 31), y = labels([0, 3, 1]);
    const params = net.parameters();
    const lossOf = (): Tensor => crossEntropy(net.forward(x), y);
    const v = params.map((p, i) => f64(p.shape, 40 + i));
    const hv = hessianVectorProduct(net, lossOf, v).map((t) => t.toFloat64());
    const eps = 1e-5;
    const gradAt = (sign: number): Float64Array[] => tidy(() => {
      noGrad(() => params.forEach((p, i) => p.add_(v[i]!, sign * eps)));
      const g = grad([lossOf()], params).map((t) => t!.toFloat64());
      noGrad(() => params.forEach((p, i) => p.sub_(v[i]!, sign * eps)));
      return g;
    });
    const gp = gradAt(1), gm = gradAt(-1);
    let worst = 0;
    hv.forEach((h, k) => h.forEach((a, i) => { worst = Math.max(worst, Math.abs(a - (gp[k]![i]! - gm[k]![i]!) / (2 * eps)) / Math.max(1, Math.abs(a))); }));
    assert.ok(worst < 1e-6, `Hv differs from finite differences by ${worst.toExponential(2)}`);
  } finally { net.dispose(); }
})));

test('filter-normalised directions: each filter has the weights\' filter norm, biases and BN are 0, the seed fixes the direction', () => noLeak(() => {
  const model = buildModel(resolveModel('resnet8', { widthMult: 0.5, inChannels: 1 }), 1);
  try {
    const d = filterNormalizedDirection(model, 7);
    let filters = 0;
    for (const [name, p] of model.namedParameters()) {
      const dir = d.get(name)!;
      assert.equal(dir.length, p.size, name);
      if (p.rank < 2) { assert.ok(dir.every((x) => x === 0), `${name} is zero`); continue; }
      const w = p.toFloat64(), per = p.size / p.shape[0]!;
      for (let f = 0; f < p.shape[0]!; f++, filters++) {
        let wn = 0, dn = 0;
        for (let i = f * per; i < (f + 1) * per; i++) { wn += w[i]! ** 2; dn += dir[i]! ** 2; }
        assert.ok(Math.abs(Math.sqrt(dn) - Math.sqrt(wn)) <= 1e-9 * Math.sqrt(wn), `${name} filter ${f}: ${Math.sqrt(dn)} vs ${Math.sqrt(wn)}`);
      }
    }
    assert.ok(filters > 50);
    assert.ok(model.namedParameters().some(([n]) => n.endsWith('bn1.weight')) && model.namedParameters().some(([n]) => n === 'fc.bias'));
    const same = filterNormalizedDirection(model, 7), other = filterNormalizedDirection(model, 8);
    for (const [name, dir] of d) assert.deepEqual(same.get(name), dir, name);
    assert.notDeepEqual(other.get('conv1.weight'), d.get('conv1.weight'));
  } finally { model.dispose(); }
}));

test('on a 20-iteration MNIST checkpoint: slice at t = 0 equals evaluate; probe hessian and probe slice --dims 2 write their documents', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'losstopo-curv-'));
  try {
    const run = join(dir, 'run');
    await train(resolveTrainConfig({ dataset: 'mnist', model: 'resnet8', widthMult: 0.5, batch: 16, trainSize: 500, testSize: 100, maxIter: 20, snapshot: 10,
      testInterval: 0, threads: 1, schedule: { policy: 'fixed', baseLr: 0.05 } }), { out: run });
    const A = join(run, 'checkpoints', 'iter-10.safetensors'), B = join(run, 'checkpoints', 'iter-20.safetensors');

    // 1-D slice: the point t = 0 is the checkpoint, evaluated exactly as `evaluate` does.
    const t0 = performance.now();
    const s = await runSliceProbe({ checkpoint: B, range: [-0.5, 0, 0.5], trainSize: 100, seed: 2, threads: 1 }, { out: join(dir, 'slice') });
    const sliceMs = performance.now() - t0;
    assert.equal(s.kind, 'slice1d');
    const ck = loadCheckpoint(B);
    const m = buildModel(ck.meta.model, 5);
    m.loadStateDict(ck.state);
    for (const t of ck.state.values()) t.dispose();
    const sets = await prepareEvalSets(ck.meta.data, {}, 100);
    for (const split of ['train', 'test'] as const) {
      const set = sets[split];
      const e = evaluate(m, new BatchLoader(makeBatchSpec(set, sets.data.transforms.eval, { batchSize: 500, train: false, labelType: 'int64' })), set);
      const p = s.points.find((q) => q.t === 0 && q.split === split)!;
      assert.equal(p.loss, e.loss, `${split} loss at t = 0`);
      assert.equal(p.accuracy, e.accuracy, `${split} accuracy at t = 0`);
      assert.ok(s.points.filter((q) => q.split === split && q.t !== 0).every((q) => q.loss !== e.loss), `${split}: the direction moves the loss`);
    }
    m.dispose();
    const doc = JSON.parse(readFileSync(join(dir, 'slice', 'curvature.json'), 'utf8')) as { kind: string; points: unknown[] };
    assert.equal(doc.kind, 'slice1d');
    assert.equal(doc.points.length, 6);

    // The CLI command module (as `losstopo probe ...` runs it).
    const io = (): { out: string[]; err: string[]; docs: unknown[]; io: { json(d: unknown): void; out(l: string): void; err(l: string): void } } => {
      const o = { out: [] as string[], err: [] as string[], docs: [] as unknown[] };
      return { ...o, io: { json: (d) => o.docs.push(d), out: (l) => o.out.push(l), err: (l) => o.err.push(l) } };
    };
    const h = io();
    const t1 = performance.now();
    const code = await probe.run(['hessian', '--checkpoint', B, '--batches', '2', '--batch', '8', '--iters', '4', '--along', A, '--alphas', '0,1', '--threads', '1', '--quiet', '--out', join(dir, 'hess'), '--json'], h.io);
    const hessMs = performance.now() - t1;
    assert.equal(code, 0);
    const hd = h.docs[0] as { kind: string; eigenvalue: number; iterations: number; history: number[]; along: { points: { alpha: number; eigenvalue: number }[] } };
    assert.equal(hd.kind, 'hessian');
    assert.ok(Number.isFinite(hd.eigenvalue) && hd.eigenvalue > 0, `eigenvalue ${hd.eigenvalue}`);
    assert.equal(hd.history.length, hd.iterations);
    assert.deepEqual(hd.along.points.map((p) => p.alpha), [0, 1]);
    assert.ok(hd.along.points.every((p) => Number.isFinite(p.eigenvalue) && p.eigenvalue > 0));
    // The line runs from --checkpoint (alpha 0) to --along (alpha 1): alpha 0 is B itself, and the
    // same fixed batches, seed and iterations give the same eigenvalue.
    assert.equal(hd.along.points[0]!.eigenvalue, hd.eigenvalue);
    const runJson = JSON.parse(readFileSync(join(dir, 'hess', 'run.json'), 'utf8')) as { kind: string; status: string; seed: number };
    assert.deepEqual([runJson.kind, runJson.status, runJson.seed], ['probe', 'completed', 0]);
    assert.equal((JSON.parse(readFileSync(join(dir, 'hess', 'curvature.json'), 'utf8')) as { kind: string }).kind, 'hessian');
    console.log(`# eigenvalue ${hd.eigenvalue.toFixed(4)} (${hd.iterations} iterations, history ${hd.history.map((x) => x.toFixed(3)).join(' ')}); along ${hd.along.points.map((p) => p.eigenvalue.toFixed(4)).join(' ')}; hessian ${hessMs.toFixed(0)} ms, slice ${sliceMs.toFixed(0)} ms`);

    const s2 = io();
    assert.equal(await probe.run(['slice', '--checkpoint', B, '--dims', '2', '--range', '-1:1:1', '--train-size', '50', '--test-size', '50', '--threads', '1', '--quiet', '--out', join(dir, 's2'), '--json'], s2.io), 0);
    const sd = s2.docs[0] as { kind: string; points: { s: number; t: number; split: string }[] };
    assert.equal(sd.kind, 'slice2d');
    assert.equal(sd.points.length, 9 * 2);
    assert.ok(existsSync(join(dir, 's2', 'curvature.json')));
    await assert.rejects(probe.run(['bend', '--checkpoint', B], io().io), /hessian|slice/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
