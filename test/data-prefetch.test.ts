import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadMnist, makeBatchSpec, makeTransform, computeStats, resolveAugmentation, BatchLoader } from '../src/data/index.js';
import { PrefetchLoader } from '../src/data/prefetch.js';

test('the worker-thread prefetch loader yields exactly the batches of the plain loader, and resumes from its state', async () => {
  const { train } = await loadMnist({ pad32: false });
  const stats = computeStats(train);
  const transform = makeTransform(resolveAugmentation('standard'), stats, train, true);
  const spec = makeBatchSpec(train, transform, { batchSize: 64, seed: 5, train: true, labelType: 'int64' });
  const plain = new BatchLoader(spec, { epoch: 0, position: 0 });
  const pre = new PrefetchLoader(spec, { epoch: 0, position: 0 });
  const perEpoch = plain.batchesPerEpoch;
  try {
    // Cross an epoch boundary.
    for (let i = 0; i < perEpoch + 3; i++) {
      assert.deepEqual(pre.state, plain.state);
      const a = plain.next(), b = pre.next();
      assert.equal(b.n, a.n);
      assert.equal(b.epoch, a.epoch);
      assert.ok(Buffer.from(b.x.buffer, b.x.byteOffset, b.x.byteLength).equals(Buffer.from(a.x.buffer, a.x.byteOffset, a.x.byteLength)), `batch ${i} pixels`);
      assert.deepEqual([...b.y], [...a.y]);
    }
  } finally {
    await pre.close();
  }
  const resumed = new PrefetchLoader(spec, plain.state);
  try {
    const a = plain.next(), b = resumed.next();
    assert.deepEqual([...b.y], [...a.y]);
  } finally {
    await resumed.close();
  }
});
