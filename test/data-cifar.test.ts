import assert from 'node:assert/strict';
import { existsSync, openSync, readSync, closeSync, rmSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readCifar, computeStats } from '../src/data/index.js';
import { isLosstopoError, LosstopoError } from '../src/errors.js';
import { CIFAR10_NAMES, concatTrain, tempDir, writeCifar10, writeCifar100 } from './fixtures/data/make.js';

const SHARED = fileURLToPath(new URL('../../shared/data', import.meta.url));
const haveShared = existsSync(join(SHARED, 'cifar-10-batches-bin', 'data_batch_1.bin'));
const skipShared = haveShared ? false : `the real CIFAR-10 set is absent (${SHARED}/cifar-10-batches-bin); fetch it with \`losstopo data fetch --dataset cifar10 --data-dir ${SHARED}\``;
if (!haveShared) console.log(`# skipping real-data tests: ${skipShared}`);

/** Runs `fn`, expects a one-line LosstopoError whose formatted text matches every pattern. */
async function rejects(fn: () => Promise<unknown>, ...patterns: RegExp[]): Promise<LosstopoError> {
  try { await fn(); } catch (e) {
    assert.ok(isLosstopoError(e), `expected a LosstopoError, got ${String(e)}`);
    const line = e.format();
    assert.ok(!line.includes('\n'), `one line: ${line}`);
    for (const p of patterns) assert.match(line, p);
    return e;
  }
  assert.fail('expected an error');
}

describe('CIFAR-10 binary reader', () => {
  it('reads generated files byte for byte, in file order', async () => {
    const t = tempDir();
    try {
      const fx = writeCifar10(t.dir, 13, 7);
      const d = await readCifar('cifar10', t.dir);
      const want = concatTrain(fx);
      assert.deepEqual(d.classes, CIFAR10_NAMES);
      assert.equal(d.train.count, 65);
      assert.equal(d.test.count, 7);
      assert.deepEqual([d.train.channels, d.train.height, d.train.width], [3, 32, 32]);
      assert.ok(Buffer.from(d.train.images).equals(Buffer.from(want.pixels)));
      assert.deepEqual(Array.from(d.train.labels), Array.from(want.labels));
      assert.ok(Buffer.from(d.test.images).equals(Buffer.from(fx.test.pixels)));
      assert.deepEqual(Array.from(d.test.labels), Array.from(fx.test.labels));
      assert.equal(d.train.sourceIndex[64], 64);
    } finally { t.done(); }
  });

  it('refuses coarse labels', async () => {
    const t = tempDir();
    try {
      writeCifar10(t.dir, 2, 2);
      await rejects(() => readCifar('cifar10', t.dir, { label: 'coarse' }), /label/, /fine/);
    } finally { t.done(); }
  });
});

describe('CIFAR-100 binary reader', () => {
  it('reads fine and coarse labels byte for byte', async () => {
    const t = tempDir();
    try {
      const fx = writeCifar100(t.dir, 50, 11);
      const fine = await readCifar('cifar100', t.dir, { label: 'fine' });
      assert.equal(fine.classes.length, 100);
      assert.equal(fine.classes[3], 'fine_3');
      assert.ok(Buffer.from(fine.train.images).equals(Buffer.from(fx.train.pixels)));
      assert.deepEqual(Array.from(fine.train.labels), Array.from(fx.train.labels));
      assert.deepEqual(Array.from(fine.test.labels), Array.from(fx.test.labels));
      const coarse = await readCifar('cifar100', t.dir, { label: 'coarse' });
      assert.equal(coarse.classes.length, 20);
      assert.deepEqual(Array.from(coarse.train.labels), Array.from(fx.train.coarse!));
      assert.ok(Buffer.from(coarse.test.images).equals(Buffer.from(fx.test.pixels)));
      const def = await readCifar('cifar100', t.dir);
      assert.deepEqual(Array.from(def.train.labels), Array.from(fx.train.labels));
    } finally { t.done(); }
  });
});

describe('bad CIFAR input: one clear line naming the file', () => {
  it('missing data folder and missing dataset folder', async () => {
    const t = tempDir();
    try {
      await rejects(() => readCifar('cifar10', join(t.dir, 'nope')), /nope: data folder not found/, /losstopo data fetch/);
      await rejects(() => readCifar('cifar10', t.dir), /cifar-10-batches-bin: folder not found/);
      await rejects(() => readCifar('cifar100', t.dir), /cifar-100-binary: folder not found/);
    } finally { t.done(); }
  });

  it('missing file', async () => {
    const t = tempDir();
    try {
      const fx = writeCifar10(t.dir, 2, 2);
      rmSync(join(fx.folder, 'data_batch_3.bin'));
      const e = await rejects(() => readCifar('cifar10', t.dir), /data_batch_3\.bin: file not found/);
      assert.equal(e.info.code, 'missing_file');
    } finally { t.done(); }
  });

  it('size not a multiple of the record (truncated file)', async () => {
    const t = tempDir();
    try {
      const fx = writeCifar10(t.dir, 3, 2);
      truncateSync(join(fx.folder, 'data_batch_2.bin'), 3073 * 2 + 100);
      const e = await rejects(() => readCifar('cifar10', t.dir), /data_batch_2\.bin: size 6246 bytes is not a multiple of the 3073-byte cifar10 record/);
      assert.equal(e.info.code, 'invalid_file');
      assert.equal(e.info.file, join(fx.folder, 'data_batch_2.bin'));
    } finally { t.done(); }
  });

  it('CIFAR-100 records in a CIFAR-10 file, and a CIFAR-100 file with extra bytes', async () => {
    const t = tempDir();
    try {
      const fx = writeCifar10(t.dir, 2, 2);
      writeFileSync(join(fx.folder, 'test_batch.bin'), Buffer.alloc(3074 * 3));
      await rejects(() => readCifar('cifar10', t.dir), /test_batch\.bin: .*multiple of 3074: cifar100 records\?/);
      const f100 = writeCifar100(t.dir, 4, 2);
      appendFileSync(join(f100.folder, 'test.bin'), Buffer.alloc(1));
      await rejects(() => readCifar('cifar100', t.dir), /test\.bin: size 6149 bytes is not a multiple of the 3074-byte cifar100 record/);
    } finally { t.done(); }
  });

  it('empty file', async () => {
    const t = tempDir();
    try {
      const fx = writeCifar10(t.dir, 2, 2);
      writeFileSync(join(fx.folder, 'data_batch_5.bin'), '');
      await rejects(() => readCifar('cifar10', t.dir), /data_batch_5\.bin: file is empty/);
    } finally { t.done(); }
  });

  it('labels out of range (CIFAR-10, CIFAR-100 fine and coarse)', async () => {
    const t = tempDir();
    try {
      const fx = writeCifar10(t.dir, 4, 2);
      const f = join(fx.folder, 'data_batch_4.bin');
      writeFileSync(f, Buffer.concat([Buffer.alloc(3073 * 2), Buffer.from([10]), Buffer.alloc(3072 + 3073)]));
      await rejects(() => readCifar('cifar10', t.dir), /data_batch_4\.bin: record 2 \(byte 6146\): label 10 out of range, expected 0\.\.9/);
      const f100 = writeCifar100(t.dir, 3, 2);
      const rec = (c: number, fi: number) => Buffer.concat([Buffer.from([c, fi]), Buffer.alloc(3072)]);
      writeFileSync(join(f100.folder, 'train.bin'), Buffer.concat([rec(0, 0), rec(1, 100)]));
      await rejects(() => readCifar('cifar100', t.dir), /train\.bin: record 1 \(byte 3075\): fine label 100 out of range, expected 0\.\.99/);
      writeFileSync(join(f100.folder, 'train.bin'), Buffer.concat([rec(20, 0)]));
      await rejects(() => readCifar('cifar100', t.dir, { label: 'coarse' }), /train\.bin: record 0 \(byte 0\): coarse label 20 out of range, expected 0\.\.19/);
      await rejects(() => readCifar('cifar100', t.dir, { label: 'fine' }), /train\.bin: .*coarse label 20 out of range/);
    } finally { t.done(); }
  });

  it('wrong number of class names', async () => {
    const t = tempDir();
    try {
      const fx = writeCifar10(t.dir, 2, 2);
      writeFileSync(join(fx.folder, 'batches.meta.txt'), 'a\nb\n');
      await rejects(() => readCifar('cifar10', t.dir), /batches\.meta\.txt: expected 10 class names \(one a line\), received 2/);
      rmSync(join(fx.folder, 'batches.meta.txt'));
      await rejects(() => readCifar('cifar10', t.dir), /batches\.meta\.txt: class-name file not found/);
    } finally { t.done(); }
  });
});

describe('the real CIFAR-10 set in ../shared/data', () => {
  it('has 5,000 training and 1,000 test images a class and the published channel means', { skip: skipShared }, async () => {
    const d = await readCifar('cifar10', SHARED);
    assert.deepEqual(d.classes, CIFAR10_NAMES);
    const s = computeStats(d.train);
    assert.equal(s.count, 50_000);
    assert.deepEqual(s.perClass, new Array(10).fill(5000));
    assert.deepEqual(computeStats(d.test).perClass, new Array(10).fill(1000));
    const want = [125.31, 122.95, 113.87];
    s.channelMean.forEach((m, c) => assert.ok(Math.abs(m - want[c]!) < 0.01, `channel ${c}: ${m}`));
    // First record of data_batch_1, read independently.
    const fd = openSync(join(SHARED, 'cifar-10-batches-bin', 'data_batch_1.bin'), 'r');
    const rec = Buffer.alloc(3073); readSync(fd, rec, 0, 3073, 0); closeSync(fd);
    assert.equal(d.train.labels[0], rec[0]);
    assert.ok(Buffer.from(d.train.images.subarray(0, 3072)).equals(rec.subarray(1)));
  });
});
