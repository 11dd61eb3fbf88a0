import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { fetchDataset } from '../src/data/fetch.js';
import type { FetchOptions } from '../src/data/fetch.js';
import { readCifar } from '../src/data/index.js';
import { isLosstopoError } from '../src/errors.js';
import { concatTrain, makeArchive, tempDir, writeCifar10, writeCifar100 } from './fixtures/data/make.js';

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

interface Server { url: string; requests: Array<{ range: string | undefined }>; close: () => Promise<void> }
interface Behaviour { cutFirstAt?: number; ignoreRange?: boolean; status?: number }

/** Serves `body` at /cifar-10-binary.tar.gz on 127.0.0.1, honouring Range unless told not to. */
async function serve(body: Buffer, how: Behaviour = {}): Promise<Server> {
  const requests: Server['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ range: req.headers.range });
    if (how.status) { res.writeHead(how.status); res.end('no'); return; }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m && !how.ignoreRange ? Number(m[1]) : 0;
    if (start >= body.length && m && !how.ignoreRange) { res.writeHead(416, { 'content-range': `bytes */${body.length}` }); res.end(); return; }
    res.writeHead(start > 0 ? 206 : 200, {
      'content-length': String(body.length - start),
      ...(start > 0 ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (requests.length === 1 && how.cutFirstAt !== undefined) {
      res.write(body.subarray(start, how.cutFirstAt), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/cifar-10-binary.tar.gz`,
    requests,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

async function rejects(fn: () => Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  try { await fn(); } catch (e) {
    assert.ok(isLosstopoError(e), `expected a LosstopoError, got ${(e as Error)?.stack ?? String(e)}`);
    const line = e.format();
    assert.ok(!line.includes('\n'), `one line: ${line}`);
    for (const p of patterns) assert.match(line, p);
    return;
  }
  assert.fail('expected an error');
}

describe('data fetch', { timeout: 60_000 }, () => {
  const src = tempDir('losstopo-fetch-src-');
  let archive: Buffer; let archiveFile: string; let fx: ReturnType<typeof writeCifar10>;
  before(async () => {
    fx = writeCifar10(src.dir, 40, 20); // ~620 KB of records, ~600 KB gzipped (random pixels)
    archiveFile = join(src.dir, 'cifar-10-binary.tar.gz');
    await makeArchive(src.dir, 'cifar-10-batches-bin', archiveFile);
    archive = readFileSync(archiveFile);
  });
  after(() => src.done());

  const opts = (dataDir: string, extra: Partial<FetchOptions> = {}): FetchOptions =>
    ({ dataset: 'cifar10', dataDir, md5: md5(archive), progress: false, retryDelayMs: 0, timeoutMs: 5000, ...extra });

  async function checkExtracted(dataDir: string): Promise<void> {
    const d = await readCifar('cifar10', dataDir);
    assert.ok(Buffer.from(d.train.images).equals(Buffer.from(concatTrain(fx).pixels)));
    assert.deepEqual(Array.from(d.test.labels), Array.from(fx.test.labels));
    assert.deepEqual(readdirSync(dataDir).sort(), ['cifar-10-batches-bin', 'cifar-10-binary.tar.gz'], 'no .part or temporary folder left');
  }

  it('downloads, verifies and extracts, with a progress line on stderr', async () => {
    const t = tempDir(); const s = await serve(archive);
    try {
      const stream = new PassThrough(); let printed = '';
      stream.on('data', (c: Buffer) => { printed += c.toString(); });
      const dataDir = join(t.dir, 'data'); // created on demand
      const r = await fetchDataset(opts(dataDir, { from: s.url, progress: true, stream: stream as unknown as NodeJS.WriteStream }));
      assert.equal(r.alreadyPresent, false);
      assert.equal(r.downloaded, archive.length);
      assert.equal(r.md5, md5(archive));
      assert.deepEqual([r.train, r.test], [200, 20]);
      assert.match(printed, /download cifar-10-binary\.tar\.gz 100% .*MB\/s/);
      await checkExtracted(dataDir);
      const again = await fetchDataset(opts(dataDir, { from: s.url }));
      assert.equal(again.alreadyPresent, true);
      assert.deepEqual([again.train, again.test], [200, 20]);
      assert.equal(s.requests.length, 1);
    } finally { await s.close(); t.done(); }
  });

  it('resumes an interrupted download with an HTTP Range request', async () => {
    const t = tempDir(); const cut = Math.floor(archive.length / 3); const s = await serve(archive, { cutFirstAt: cut });
    try {
      const logs: string[] = [];
      await fetchDataset(opts(t.dir, { from: s.url, retries: 2, log: (l) => logs.push(l) }));
      assert.equal(s.requests.length, 2);
      assert.equal(s.requests[0]!.range, undefined);
      assert.equal(s.requests[1]!.range, `bytes=${cut}-`);
      assert.ok(logs.some((l) => l.includes(`resuming from byte ${cut}`)), logs.join('\n'));
      await checkExtracted(t.dir);
    } finally { await s.close(); t.done(); }
  });

  it('keeps the .part file when it gives up, and the next run resumes from it', async () => {
    const t = tempDir(); const cut = Math.floor(archive.length / 2); const s = await serve(archive, { cutFirstAt: cut });
    try {
      await rejects(() => fetchDataset(opts(t.dir, { from: s.url, retries: 0 })), /cifar-10-binary\.tar\.gz\.part/, /download interrupted/, /run the same command again to resume/);
      assert.equal(statSync(join(t.dir, 'cifar-10-binary.tar.gz.part')).size, cut);
      assert.deepEqual(readdirSync(t.dir), ['cifar-10-binary.tar.gz.part']);
      const r = await fetchDataset(opts(t.dir, { from: s.url, retries: 0 }));
      assert.equal(s.requests[1]!.range, `bytes=${cut}-`);
      assert.equal(r.resumedFrom, cut);
      assert.equal(r.downloaded, archive.length - cut);
      await checkExtracted(t.dir);
    } finally { await s.close(); t.done(); }
  });

  it('starts over when the server ignores the Range request', async () => {
    const t = tempDir(); const s = await serve(archive, { ignoreRange: true });
    try {
      writeFileSync(join(t.dir, 'cifar-10-binary.tar.gz.part'), archive.subarray(0, 1000).map((b) => b ^ 0xff));
      await fetchDataset(opts(t.dir, { from: s.url }));
      assert.equal(s.requests[0]!.range, 'bytes=1000-');
      await checkExtracted(t.dir);
    } finally { await s.close(); t.done(); }
  });

  it('md5 mismatch: names the file, deletes the download, extracts nothing', async () => {
    const t = tempDir(); const s = await serve(archive);
    try {
      await rejects(() => fetchDataset(opts(t.dir, { from: s.url, md5: 'c32a1d4ab5d03f1284b67883e8d87530' })),
        /cifar-10-binary\.tar\.gz: md5 [0-9a-f]{32} does not match the expected c32a1d4ab5d03f1284b67883e8d87530 \(deleted/);
      assert.deepEqual(readdirSync(t.dir), []);
      // A local archive with the wrong md5 is reported and kept.
      await rejects(() => fetchDataset(opts(t.dir, { from: archiveFile, md5: '0'.repeat(32) })), /md5 .* does not match/);
      assert.ok(existsSync(archiveFile));
      assert.deepEqual(readdirSync(t.dir), []);
      await rejects(() => fetchDataset(opts(t.dir, { from: archiveFile, md5: 'xyz' })), /md5: expected 32 hex digits/);
    } finally { await s.close(); t.done(); }
  });

  it('truncated archive: a clear error, nothing half extracted left behind', async () => {
    const t = tempDir();
    try {
      const truncated = archive.subarray(0, Math.floor(archive.length * 0.6));
      const file = join(t.dir, 'trunc.tar.gz');
      writeFileSync(file, truncated);
      const dataDir = join(t.dir, 'data');
      await rejects(() => fetchDataset(opts(dataDir, { from: file, md5: md5(truncated) })), /trunc\.tar\.gz: archive is truncated or corrupt/);
      assert.deepEqual(readdirSync(dataDir), []);
      // Valid gzip around a tar cut in the middle of a file.
      const tarCut = gzipSync(gunzipSync(archive).subarray(0, 100_000));
      writeFileSync(file, tarCut);
      await rejects(() => fetchDataset(opts(dataDir, { from: file, md5: md5(tarCut) })), /trunc\.tar\.gz: archive is truncated or corrupt: .*Truncated input/);
      assert.deepEqual(readdirSync(dataDir), []);
    } finally { t.done(); }
  });

  it('archive with a bad file inside: names the file, nothing left behind', async () => {
    const t = tempDir();
    try {
      const bad = writeCifar10(join(t.dir, 'src'), 3, 3);
      writeFileSync(join(bad.folder, 'data_batch_2.bin'), Buffer.alloc(3073 * 2 + 7));
      const file = join(t.dir, 'bad.tar.gz');
      await makeArchive(join(t.dir, 'src'), 'cifar-10-batches-bin', file);
      const dataDir = join(t.dir, 'data');
      await rejects(() => fetchDataset(opts(dataDir, { from: file, md5: md5(readFileSync(file)) })),
        /bad\.tar\.gz\/cifar-10-batches-bin\/data_batch_2\.bin: in the archive: size 6153 bytes is not a multiple/);
      assert.deepEqual(readdirSync(dataDir), []);
      // An archive of the wrong dataset.
      const other = writeCifar100(join(t.dir, 'src100'), 3, 3);
      const file100 = join(t.dir, 'c100.tar.gz');
      await makeArchive(join(t.dir, 'src100'), 'cifar-100-binary', file100);
      void other;
      await rejects(() => fetchDataset(opts(dataDir, { from: file100, md5: md5(readFileSync(file100)) })), /c100\.tar\.gz: archive does not hold cifar-10-batches-bin\//);
      assert.deepEqual(readdirSync(dataDir), []);
    } finally { t.done(); }
  });

  it('takes a local CIFAR-100 archive', async () => {
    const t = tempDir();
    try {
      const f = writeCifar100(join(t.dir, 'src'), 30, 10);
      const file = join(t.dir, 'cifar-100-binary.tar.gz');
      await makeArchive(join(t.dir, 'src'), 'cifar-100-binary', file);
      rmSync(join(t.dir, 'src'), { recursive: true });
      const dataDir = join(t.dir, 'data');
      const r = await fetchDataset({ dataset: 'cifar100', dataDir, from: file, md5: md5(readFileSync(file)), progress: false });
      assert.deepEqual([r.train, r.test, r.downloaded], [30, 10, 0]);
      const d = await readCifar('cifar100', dataDir, { label: 'coarse' });
      assert.deepEqual(Array.from(d.train.labels), Array.from(f.train.coarse!));
      assert.deepEqual(readdirSync(dataDir), ['cifar-100-binary']);
    } finally { t.done(); }
  });

  it('HTTP errors and missing local files', async () => {
    const t = tempDir(); const s = await serve(archive, { status: 404 });
    try {
      await rejects(() => fetchDataset(opts(t.dir, { from: s.url })), /download failed: HTTP 404/);
      assert.deepEqual(readdirSync(t.dir), []);
      await rejects(() => fetchDataset(opts(t.dir, { from: join(t.dir, 'nope.tar.gz') })), /nope\.tar\.gz: archive not found/);
    } finally { await s.close(); t.done(); }
  });
});
