import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import data from '../src/cli/commands/data.js';
import type { CommandIO } from '../src/cli/command.js';
import { isLosstopoError } from '../src/errors.js';
import { CIFAR10_NAMES, makeArchive, tempDir, writeCifar10, writeCifar100 } from './fixtures/data/make.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHARED = fileURLToPath(new URL('../../shared/data', import.meta.url));
const haveShared = existsSync(join(SHARED, 'cifar-10-batches-bin', 'data_batch_1.bin'));
const skipShared = haveShared ? false : `the real CIFAR-10 set is absent (${SHARED}/cifar-10-batches-bin)`;
if (!haveShared) console.log(`# skipping real-data CLI test: ${skipShared}`);

/** Runs `losstopo data ...` in-process; returns the JSON documents and the lines written. */
async function run(argv: string[]): Promise<{ code: number; docs: unknown[]; out: string[]; err: string[] }> {
  const docs: unknown[] = []; const out: string[] = []; const err: string[] = [];
  const io: CommandIO = { json: (d) => docs.push(JSON.parse(JSON.stringify(d))), out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await data.run(argv, io);
  return { code, docs, out, err };
}

interface Inspect { dataset: string; classes: string[]; train: { count: number; perClass: number[]; meanRGB: number[] }; test: { count: number; perClass: number[]; meanRGB: number[] } }

describe('losstopo data inspect', () => {
  it('--json on generated CIFAR-10: exactly the documented document', async () => {
    const t = tempDir();
    try {
      const fx = writeCifar10(t.dir, 10, 20);
      const { code, docs } = await run(['inspect', '--dataset', 'cifar10', '--data-dir', t.dir, '--json']);
      assert.equal(code, 0);
      assert.equal(docs.length, 1);
      const doc = docs[0] as Inspect;
      assert.deepEqual(Object.keys(doc), ['dataset', 'classes', 'train', 'test']);
      assert.deepEqual(Object.keys(doc.train), ['count', 'perClass', 'meanRGB']);
      assert.equal(doc.dataset, 'cifar10');
      assert.deepEqual(doc.classes, CIFAR10_NAMES);
      assert.equal(doc.train.count, 50);
      assert.deepEqual(doc.train.perClass, new Array(10).fill(5));
      assert.deepEqual(doc.test.perClass, new Array(10).fill(2));
      // Means computed independently from the generated pixels.
      const mean = (px: Uint8Array, c: number): number => { let s = 0; let n = 0; for (let i = 0; i < px.length; i += 3072) for (let k = c * 1024; k < (c + 1) * 1024; k++) { s += px[i + k]!; n++; } return s / n; };
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(doc.test.meanRGB[c]! - mean(fx.test.pixels, c)) < 1e-9);
    } finally { t.done(); }
  });

  it('CIFAR-100 fine and coarse, and MNIST with one mean value', async () => {
    const t = tempDir();
    try {
      writeCifar100(t.dir, 100, 40);
      const fine = (await run(['inspect', '--dataset', 'cifar100', '--data-dir', t.dir, '--json'])).docs[0] as Inspect;
      assert.equal(fine.classes.length, 100);
      const coarse = (await run(['inspect', '--dataset', 'cifar100', '--data-dir', t.dir, '--label', 'coarse', '--json'])).docs[0] as Inspect;
      assert.deepEqual(coarse.train.perClass, new Array(20).fill(5));
      const mnist = (await run(['inspect', '--dataset', 'mnist', '--json'])).docs[0] as Inspect;
      assert.deepEqual([mnist.train.count, mnist.test.count, mnist.train.meanRGB.length], [8000, 2000, 1]);
      const human = await run(['inspect', '--dataset', 'mnist']);
      assert.equal(human.docs.length, 0);
      assert.match(human.out.join('\n'), /train\s+8000 images/);
    } finally { t.done(); }
  });

  it('bad input: one-line errors', async () => {
    const t = tempDir();
    const fails = async (argv: string[], re: RegExp) => {
      await assert.rejects(run(argv), (e: unknown) => isLosstopoError(e) && re.test(e.format()) && !e.format().includes('\n'));
    };
    try {
      await fails(['inspect', '--dataset', 'cifar10', '--json'], /--data-dir: is required for cifar10/);
      await fails(['inspect', '--dataset', 'cifar10', '--data-dir', t.dir], /cifar-10-batches-bin: folder not found/);
      await fails(['inspect', '--dataset', 'imagenet'], /--dataset: expected one of cifar10\|cifar100\|mnist/);
      await fails(['inspect', '--dataset', 'cifar10', '--label', 'coarse', '--data-dir', t.dir], /--label: only CIFAR-100/);
      await fails(['inspekt'], /unknown `losstopo data` subcommand/);
      await fails(['fetch', '--dataset', 'mnist', '--data-dir', t.dir], /--dataset: expected one of cifar10\|cifar100/);
      assert.match((await run(['inspect', '--help'])).out.join('\n'), /--data-dir/);
      assert.equal((await run([])).code, 2);
    } finally { t.done(); }
  });

  it('on ../shared/data: 5,000 / 1,000 a class and the published means', { skip: skipShared }, async () => {
    const doc = (await run(['inspect', '--dataset', 'cifar10', '--data-dir', SHARED, '--json'])).docs[0] as Inspect;
    assert.deepEqual(doc.train.perClass, new Array(10).fill(5000));
    assert.deepEqual(doc.test.perClass, new Array(10).fill(1000));
    [125.31, 122.95, 113.87].forEach((m, c) => assert.ok(Math.abs(doc.train.meanRGB[c]! - m) < 0.01));
  });
});

describe('losstopo data fetch', () => {
  it('takes a local archive with --from and --md5, then reports it present', async () => {
    const t = tempDir();
    try {
      writeCifar10(join(t.dir, 'src'), 2, 3);
      const file = join(t.dir, 'a.tar.gz');
      await makeArchive(join(t.dir, 'src'), 'cifar-10-batches-bin', file);
      const sum = createHash('md5').update(readFileSync(file)).digest('hex');
      const dataDir = join(t.dir, 'data');
      const r = await run(['fetch', '--dataset', 'cifar10', '--data-dir', dataDir, '--from', file, '--md5', sum, '--json']);
      assert.equal(r.code, 0);
      assert.deepEqual(r.docs[0], { dataset: 'cifar10', dir: join(dataDir, 'cifar-10-batches-bin'), archive: file, md5: sum, downloaded: 0, resumedFrom: 0, alreadyPresent: false, train: 10, test: 3 });
      assert.deepEqual(readdirSync(dataDir), ['cifar-10-batches-bin']);
      const again = await run(['fetch', '--dataset', 'cifar10', '--data-dir', dataDir, '--from', file]);
      assert.match(again.out[0]!, /already exists/);
    } finally { t.done(); }
  });
});

describe('the losstopo binary', () => {
  const exec = promisify(execFile);
  it('prints exactly one JSON document on stdout, and one error line with exit 2', { timeout: 60_000 }, async () => {
    const t = tempDir();
    try {
      writeCifar10(t.dir, 4, 10);
      const ok = await exec(join(ROOT, 'bin/losstopo'), ['data', 'inspect', '--dataset', 'cifar10', '--data-dir', t.dir, '--json'], { cwd: ROOT });
      const doc = JSON.parse(ok.stdout) as Inspect;
      assert.equal(ok.stdout.trim().split('\n').length, 1);
      assert.equal(doc.train.count, 20);
      const bad = await exec(join(ROOT, 'bin/losstopo'), ['data', 'inspect', '--dataset', 'cifar100', '--data-dir', t.dir, '--json'], { cwd: ROOT }).then(() => undefined, (e: { code: number; stdout: string; stderr: string }) => e);
      assert.ok(bad, 'expected a failure');
      assert.equal(bad.code, 2);
      assert.equal(bad.stdout, '');
      assert.match(bad.stderr, /^losstopo data: .*cifar-100-binary: folder not found.*\n$/);
    } finally { t.done(); }
  });
});
