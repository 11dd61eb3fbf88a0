import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  BatchLoader, balancedQuota, batchAt, batchesPerEpoch, computeStats, evalLoader, fillBatch, makeBatchSpec, makeTransform,
  nextState, prepareData, resolveAugmentation, resolveDataConfig, splitTrain, subsetTest, trainLoader,
} from '../src/data/index.js';
import type { Batch, BatchSpec, ImageSet, Labels } from '../src/data/index.js';
import { isLosstopoError } from '../src/errors.js';
import { randomSet, tempDir, writeCifar10 } from './fixtures/data/make.js';

function spec(set: ImageSet, batchSize: number, seed: number, aug = 'standard', train = true): BatchSpec {
  const t = makeTransform(resolveAugmentation(aug), computeStats(set), set, train);
  return makeBatchSpec(set, t, { batchSize, seed, train });
}
const same = (a: Batch, b: Batch): boolean =>
  a.n === b.n && a.epoch === b.epoch && a.index === b.index && Buffer.from(a.x.buffer).equals(Buffer.from(b.x.buffer)) && Buffer.from(a.y.buffer).equals(Buffer.from(b.y.buffer));
const lab = (y: Labels): number[] => (y instanceof BigInt64Array ? Array.from(y, Number) : Array.from(y));

/** A split whose image i has all pixels = i (mod 256) in channel 0 and i>>8 in channel 1: images identify themselves. */
function taggedSet(n: number, classes = 10): ImageSet {
  const set = randomSet(n, { classes });
  for (let i = 0; i < n; i++) {
    set.images.fill(i & 255, i * 3072, i * 3072 + 1024);
    set.images.fill(i >> 8, i * 3072 + 1024, i * 3072 + 2048);
  }
  return set;
}
function rawSpec(set: ImageSet, batchSize: number, seed: number, train = true): BatchSpec {
  const t = makeTransform({ mirror: false, pad: 0, normalize: 'none' }, computeStats(set), set, train);
  return makeBatchSpec(set, t, { batchSize, seed, train });
}
const idsOf = (b: Batch): number[] => Array.from({ length: b.n }, (_, j) => b.x[j * 3072]! + 256 * b.x[j * 3072 + 1024]!);

describe('batch loader order', () => {
  const set = taggedSet(120);

  it('same seed, same batches; another seed, another order', () => {
    const a = new BatchLoader(spec(set, 16, 7)); const b = new BatchLoader(spec(set, 16, 7)); const c = new BatchLoader(spec(set, 16, 8));
    let differ = false;
    for (let k = 0; k < 20; k++) {
      const x = a.next(); const y = b.next(); const z = c.next();
      assert.ok(same(x, y), `batch ${k}`);
      differ ||= !same(x, z);
    }
    assert.ok(differ);
  });

  it('visits every training image once per epoch, each epoch in a different order', () => {
    const s = rawSpec(set, 12, 3);
    assert.equal(batchesPerEpoch(s), 10);
    const loader = new BatchLoader(s);
    const orders: number[][] = [];
    for (let e = 0; e < 3; e++) {
      const seen: number[] = [];
      let index = 0;
      for (const b of loader) {
        assert.equal(b.epoch, e); assert.equal(b.index, index++); assert.equal(b.n, 12);
        const got = idsOf(b);
        assert.deepEqual(lab(b.y), got.map((i) => set.labels[i]));
        seen.push(...got);
      }
      assert.equal(index, 10);
      assert.deepEqual([...seen].sort((p, q) => p - q), Array.from({ length: 120 }, (_, i) => i));
      orders.push(seen);
    }
    assert.notDeepEqual(orders[0], orders[1]);
    assert.notDeepEqual(orders[1], orders[2]);
    assert.notDeepEqual(orders[0], Array.from({ length: 120 }, (_, i) => i));
  });

  it('drops the last partial batch in training (each image at most once)', () => {
    const s = rawSpec(set, 50, 1);
    assert.equal(batchesPerEpoch(s), 2);
    const loader = new BatchLoader(s);
    const batches = [...loader];
    assert.deepEqual(batches.map((b) => b.n), [50, 50]);
    assert.equal(new Set(batches.flatMap(idsOf)).size, 100);
    assert.deepEqual(loader.state, { epoch: 1, position: 0 });
  });

  it('resumes at exactly the same batch from a saved state (JSON round trip)', () => {
    const s = spec(set, 16, 42);
    const straight = new BatchLoader(s);
    const seq: Batch[] = []; for (let k = 0; k < 25; k++) seq.push(straight.next());
    const first = new BatchLoader(spec(set, 16, 42));
    for (let k = 0; k < 11; k++) first.next();
    const saved = JSON.parse(JSON.stringify(first.state));
    assert.deepEqual(saved, { epoch: 1, position: 64 }); // 7 batches an epoch
    const resumed = new BatchLoader(spec(set, 16, 42), saved); // fresh spec: nothing cached
    for (let k = 11; k < 25; k++) assert.ok(same(resumed.next(), seq[k]!), `batch ${k}`);
    // batchAt is pure: any state, any order.
    assert.ok(same(batchAt(s, { epoch: 3, position: 16 }), seq[22]!));
    assert.ok(same(batchAt(s, { epoch: 0, position: 0 }), seq[0]!));
  });

  it('fills provided arrays (int32 or int64 labels) without allocating a batch', () => {
    const s = spec(set, 8, 5);
    const want = batchAt(s, { epoch: 2, position: 8 });
    const x = new Float32Array(8 * 3072); const y = new BigInt64Array(8);
    assert.equal(fillBatch(s, { epoch: 2, position: 8 }, x, y), 8);
    assert.deepEqual(Array.from(x), Array.from(want.x));
    assert.deepEqual(lab(y), lab(want.y));
    const s64 = makeBatchSpec(set, s.transform, { batchSize: 8, seed: 5, train: true, labelType: 'int64' });
    assert.ok(batchAt(s64, { epoch: 0, position: 0 }).y instanceof BigInt64Array);
  });

  it('evaluation: file order, every image, last batch smaller, no augmentation', () => {
    const s = rawSpec(set, 50, 9, false);
    assert.equal(batchesPerEpoch(s), 3);
    const batches = [...new BatchLoader(s)];
    assert.deepEqual(batches.map((b) => b.n), [50, 50, 20]);
    assert.deepEqual(batches.flatMap(idsOf), Array.from({ length: 120 }, (_, i) => i));
    const aug = spec(set, 50, 9, 'caffe', false);
    const b = batchAt(aug, { epoch: 4, position: 100 });
    const stats = computeStats(set);
    for (let k = 0; k < 3072; k++) assert.ok(Math.abs(b.x[k]! - (set.images[100 * 3072 + k]! - stats.meanImage[k]!)) < 1e-4);
  });

  it('rejects bad batch sizes and states', () => {
    const bad = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => isLosstopoError(e) && re.test(e.format()));
    bad(() => spec(set, 0, 1), /batchSize: expected a positive integer/);
    bad(() => spec(set, 121, 1), /batchSize: expected at most the 120 images/);
    bad(() => spec(set, 10, -1), /seed: expected an integer 0\.\.4294967295/);
    bad(() => new BatchLoader(spec(set, 10, 1), { epoch: 0, position: 111 }), /state\.position: expected an integer 0\.\.110/);
    bad(() => new BatchLoader(spec(set, 10, 1), { epoch: -1, position: 0 }), /state\.epoch/);
    assert.deepEqual(nextState(spec(set, 10, 1), { epoch: 0, position: 110 }), { epoch: 1, position: 0 });
  });

  it('builds the same batch in a worker thread from the posted spec', async () => {
    const s = spec(set, 8, 77);
    const want = batchAt(s, { epoch: 1, position: 24 });
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.tsx).then((t) => { t.register(); return import(workerData.url); }).then((m) => {
        const x = new Float32Array(8 * 3072), y = new Int32Array(8);
        m.fillBatch(workerData.spec, { epoch: 1, position: 24 }, x, y);
        parentPort.postMessage({ x, y });
      });`;
    const url = new URL('../src/data/loader.ts', import.meta.url).href;
    const got = await new Promise<{ x: Float32Array; y: Int32Array }>((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: { spec: s, url, tsx: import.meta.resolve('tsx/esm/api') } });
      w.once('message', (m) => { resolve(m); void w.terminate(); });
      w.once('error', reject);
    });
    assert.deepEqual(Array.from(got.x), Array.from(want.x));
    assert.deepEqual(Array.from(got.y), lab(want.y));
  });
});

describe('subsets', () => {
  it('balanced quotas spread shortfalls', () => {
    assert.deepEqual(balancedQuota([10, 10, 10], 9), [3, 3, 3]);
    assert.deepEqual(balancedQuota([10, 10, 10], 10), [4, 3, 3]);
    assert.deepEqual(balancedQuota([1, 10, 10], 9), [1, 4, 4]);
    assert.deepEqual(balancedQuota([0, 5, 2], 7), [0, 5, 2]);
    assert.throws(() => balancedQuota([1, 1], 3));
  });

  const set = taggedSet(200);
  it('trainSize: class-balanced, from the seed', () => {
    const a = splitTrain(set, { seed: 1, trainSize: 50 }).train;
    const b = splitTrain(set, { seed: 1, trainSize: 50 }).train;
    const c = splitTrain(set, { seed: 2, trainSize: 50 }).train;
    assert.equal(a.count, 50);
    assert.deepEqual(computeStats(a).perClass, new Array(10).fill(5));
    assert.deepEqual(Array.from(a.sourceIndex), Array.from(b.sourceIndex));
    assert.notDeepEqual(Array.from(a.sourceIndex), Array.from(c.sourceIndex));
    for (let k = 0; k < 50; k++) {
      const i = a.sourceIndex[k]!;
      assert.equal(a.labels[k], set.labels[i]);
      assert.ok(Buffer.from(a.images.subarray(k * 3072, (k + 1) * 3072)).equals(Buffer.from(set.images.subarray(i * 3072, (i + 1) * 3072))));
    }
  });

  it('valSize: fixed whatever the seed, disjoint from training', () => {
    const a = splitTrain(set, { seed: 1, valSize: 30, trainSize: 100 });
    const b = splitTrain(set, { seed: 2, valSize: 30, trainSize: 100 });
    assert.deepEqual(Array.from(a.val!.sourceIndex), Array.from(b.val!.sourceIndex));
    assert.deepEqual(computeStats(a.val!).perClass, new Array(10).fill(3));
    assert.equal(a.val!.split, 'val');
    const val = new Set(a.val!.sourceIndex);
    for (const i of a.train.sourceIndex) assert.ok(!val.has(i));
    const all = splitTrain(set, { seed: 1, valSize: 30 });
    assert.equal(all.train.count, 170);
  });

  it('testSize: fixed, the first images of each class', () => {
    const t = subsetTest({ ...set, split: 'test' }, 25);
    assert.deepEqual(Array.from(t.sourceIndex), [...Array.from({ length: 20 }, (_, i) => i), 20, 21, 22, 23, 24]);
    assert.deepEqual(computeStats(t).perClass, [3, 3, 3, 3, 3, 2, 2, 2, 2, 2]);
  });

  it('rejects sizes that do not fit', () => {
    const bad = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => isLosstopoError(e) && re.test(e.format()));
    bad(() => splitTrain(set, { seed: 1, trainSize: 201 }), /trainSize: expected an integer 1\.\.200/);
    bad(() => splitTrain(set, { seed: 1, valSize: 50, trainSize: 151 }), /trainSize: expected an integer 1\.\.150/);
    bad(() => splitTrain(set, { seed: 1, valSize: 200 }), /valSize/);
    bad(() => subsetTest(set, 0), /testSize/);
  });
});

describe('data config and prepared loaders', () => {
  it('rejects unknown keys and bad values', () => {
    const bad = (raw: unknown, re: RegExp) => assert.throws(() => resolveDataConfig(raw), (e: unknown) => isLosstopoError(e) && re.test(e.format()));
    bad({ dataset: 'mnist', seed: 1, trainsize: 10 }, /trainsize: unknown data option; did you mean "trainSize"\?/);
    bad({ dataset: 'cifar', seed: 1 }, /dataset: expected one of cifar10\|cifar100\|mnist/);
    bad({ dataset: 'cifar10', seed: 1 }, /dataDir: expected the folder/);
    bad({ dataset: 'mnist' }, /seed/);
    bad({ dataset: 'mnist', seed: 1, augmentation: 'flip' }, /augmentation: expected one of/);
    bad({ dataset: 'cifar10', dataDir: 'x', seed: 1, label: 'coarse' }, /label/);
    bad({ dataset: 'mnist', seed: 1, trainSize: 0 }, /trainSize: expected a positive integer, received 0/);
    assert.deepEqual(resolveDataConfig({ dataset: 'cifar10', dataDir: 'd', seed: 0 }).augmentation, { mirror: true, pad: 0, normalize: 'mean-image' });
  });

  it('prepares generated CIFAR-10 with subsets and resumable loaders', async () => {
    const t = tempDir();
    try {
      writeCifar10(t.dir, 20, 30);
      const data = await prepareData({ dataset: 'cifar10', dataDir: t.dir, seed: 4, trainSize: 60, valSize: 20, testSize: 20, augmentation: 'standard' });
      assert.deepEqual([data.train.count, data.val!.count, data.test.count], [60, 20, 20]);
      assert.deepEqual(data.stats.perClass, new Array(10).fill(6));
      const tl = trainLoader(data, { batchSize: 8 });
      assert.equal(tl.batchesPerEpoch, 7);
      for (let k = 0; k < 9; k++) tl.next();
      const again = trainLoader(data, { batchSize: 8, state: tl.state });
      assert.ok(same(again.next(), tl.next()));
      assert.deepEqual([...evalLoader(data, 'test', { batchSize: 8 })].map((b) => b.n), [8, 8, 4]);
      assert.equal([...evalLoader(data, 'val', { batchSize: 100 })][0]!.n, 20);
      const noVal = await prepareData({ dataset: 'cifar10', dataDir: t.dir, seed: 4 });
      assert.throws(() => evalLoader(noVal, 'val', { batchSize: 8 }), /valSize/);
    } finally { t.done(); }
  });
});
