/**
 * `losstopo data fetch`: get the official CIFAR binary archive, verify it, extract it atomically.
 *
 * 1. If DATA_DIR/<folder>/ already exists, nothing is done (its file sizes are checked and counted).
 * 2. The archive is a local file (`from` a path) or downloaded (`from` a URL; default the official
 *    URL) into DATA_DIR/<archive>.part. An interrupted download resumes with an HTTP Range request
 *    (automatically up to `retries` times, and again on the next run, which finds the .part file);
 *    when complete the .part file is renamed to DATA_DIR/<archive> and kept for offline re-extraction.
 * 3. Its md5 must match the official checksum (`md5` overrides it, for tests); a downloaded archive
 *    that does not match is deleted so the next run starts over.
 * 4. It is extracted with the `tar` package into a temporary folder in DATA_DIR, the folder is
 *    verified (every file present, whole records, labels in range, class names), then renamed into
 *    place. On any failure the temporary folder is removed: nothing half extracted is left behind.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { Transform as StreamTransform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { LosstopoError, isLosstopoError } from '../errors.js';
import { Progress } from '../util/progress.js';
import type { CifarName } from './cifar.js';
import { cifarLayout, countRecords, verifyCifarFolder } from './cifar.js';

export interface FetchOptions {
  dataset: CifarName;
  /** Folder that will hold the extracted folder (cifar-10-batches-bin/ or cifar-100-binary/). */
  dataDir: string;
  /** A local archive path or an http(s) URL; default the official URL. */
  from?: string;
  /** Expected md5 (hex); default the official archive's. Meant for tests with a small archive. */
  md5?: string;
  /** Automatic resumes after an interrupted download (default 3). */
  retries?: number;
  /** Wait before each automatic resume, ms (default 1000). */
  retryDelayMs?: number;
  /** Socket idle timeout, ms (default 30000). */
  timeoutMs?: number;
  /** Progress bar on stderr (default true). */
  progress?: boolean;
  stream?: NodeJS.WriteStream;
  /** One-line notes (resuming, verifying, extracting); default none. */
  log?: (line: string) => void;
}

export interface FetchResult {
  dataset: CifarName;
  /** The extracted folder. */
  dir: string;
  /** The archive used (null when the folder was already there). */
  archive: string | null;
  md5: string | null;
  /** Bytes downloaded by this call (0 for a local or already downloaded archive). */
  downloaded: number;
  /** Byte offset a download resumed from (first request of this call), 0 when it started fresh. */
  resumedFrom: number;
  alreadyPresent: boolean;
  train: number;
  test: number;
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

async function exists(path: string): Promise<boolean> {
  try { await stat(path); return true; } catch { return false; }
}
async function sizeOf(path: string): Promise<number> {
  try { return (await stat(path)).size; } catch { return 0; }
}

export async function md5File(path: string): Promise<string> {
  const h = createHash('md5');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

/** A download attempt failed in a way a resume may fix (network error, early end). */
class Interrupted extends Error {}

interface GetResult { status: number; headers: http.IncomingHttpHeaders; res: http.IncomingMessage }

function get(url: string, headers: Record<string, string>, timeoutMs: number, redirects = 5): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, { headers: { 'user-agent': 'losstopo', ...headers } }, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (redirects <= 0) { reject(new LosstopoError({ code: 'data_error', path: url }, 'too many redirects')); return; }
        get(new URL(res.headers.location, url).toString(), headers, timeoutMs, redirects - 1).then(resolve, reject);
        return;
      }
      resolve({ status, headers: res.headers, res });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Interrupted(`no data for ${timeoutMs / 1000} s`)));
    req.on('error', (e) => reject(e instanceof Interrupted ? e : new Interrupted(e.message)));
  });
}

/** One request: appends to `part` from its current size; resolves when the file is complete. */
async function getOnce(url: string, part: string, opts: FetchOptions, timeoutMs: number): Promise<{ got: number; total: number }> {
  const have = await sizeOf(part);
  const { status, headers, res } = await get(url, have > 0 ? { range: `bytes=${have}-` } : {}, timeoutMs);
  let start = 0; let total = -1;
  if (status === 200) {
    total = Number(headers['content-length'] ?? -1);
  } else if (status === 206) {
    const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== have) { res.resume(); await rm(part, { force: true }); throw new Interrupted(`server answered the range request with ${String(headers['content-range'])}; starting over`); }
    start = have;
    total = m[2] === '*' ? -1 : Number(m[2]);
  } else if (status === 416) {
    res.resume();
    const m = /\/(\d+)$/.exec(String(headers['content-range'] ?? ''));
    if (m && Number(m[1]) === have) return { got: 0, total: have };
    await rm(part, { force: true });
    throw new Interrupted('server refused to resume (HTTP 416); starting over');
  } else {
    res.resume();
    throw new LosstopoError({ code: 'data_error', path: url, received: `HTTP ${status}` }, `download failed: HTTP ${status}`);
  }
  const mb = (b: number): number => Math.round(b / 1e5) / 10;
  const progress = opts.progress === false ? undefined
    : new Progress({ label: `download ${url.split('/').pop() ?? url}`, total: total > 0 ? mb(total) : 0, unit: 'MB', ...(opts.stream ? { stream: opts.stream } : {}) });
  progress?.resumeAt(mb(start));
  let done = start;
  const counter = new StreamTransform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      progress?.update(mb(done));
      cb(null, chunk);
    },
  });
  res.setTimeout(timeoutMs, () => res.destroy(new Interrupted(`no data for ${timeoutMs / 1000} s`)));
  try {
    await pipeline(res, counter, createWriteStream(part, { flags: start > 0 ? 'a' : 'w' }));
  } catch (e) {
    progress?.finish('interrupted');
    throw e instanceof Interrupted ? e : new Interrupted((e as Error).message || 'connection lost');
  }
  progress?.finish();
  if (res.readableAborted || (total >= 0 && done < total)) throw new Interrupted(`connection closed after ${done} of ${total} bytes`);
  return { got: done - start, total: done };
}

async function download(url: string, part: string, opts: FetchOptions): Promise<{ got: number; resumedFrom: number }> {
  const retries = opts.retries ?? 3;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const resumedFrom = await sizeOf(part);
  for (let attempt = 0; ; attempt++) {
    try {
      await getOnce(url, part, opts, timeoutMs);
      return { got: (await sizeOf(part)) - resumedFrom, resumedFrom };
    } catch (e) {
      if (!(e instanceof Interrupted)) throw e;
      const have = await sizeOf(part);
      if (attempt >= retries) {
        throw new LosstopoError({ code: 'data_error', file: part, path: url },
          `download interrupted (${e.message}) with ${have} bytes in ${part}; run the same command again to resume`);
      }
      opts.log?.(`download interrupted (${e.message}); resuming from byte ${have}`);
      await new Promise((r) => setTimeout(r, opts.retryDelayMs ?? 1000));
    }
  }
}

/** Fetches, verifies and extracts a CIFAR archive (see the file header). */
export async function fetchDataset(opts: FetchOptions): Promise<FetchResult> {
  const layout = cifarLayout(opts.dataset);
  const dataDir = opts.dataDir;
  const dir = join(dataDir, layout.folder);
  if (await exists(dir)) {
    const counts = await countRecords(opts.dataset, dir);
    return { dataset: opts.dataset, dir, archive: null, md5: null, downloaded: 0, resumedFrom: 0, alreadyPresent: true, ...counts };
  }
  try { await mkdir(dataDir, { recursive: true }); } catch (e) {
    throw new LosstopoError({ code: 'data_error', file: dataDir }, `cannot create the data folder: ${(e as Error).message}`);
  }
  const want = (opts.md5 ?? layout.archive.md5).toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(want)) throw new LosstopoError({ code: 'invalid_option', path: 'md5', expected: '32 hex digits', received: want }, `expected 32 hex digits, received ${JSON.stringify(want)}`);

  // 1. The archive.
  let archive: string; let downloaded = 0; let resumedFrom = 0; let ours = false;
  const from = opts.from ?? layout.archive.url;
  if (!isUrl(from)) {
    archive = from;
    if (!(await exists(archive))) throw new LosstopoError({ code: 'missing_file', file: archive }, 'archive not found');
  } else {
    archive = join(dataDir, layout.archive.file);
    ours = true;
    if (!(await exists(archive))) {
      const part = `${archive}.part`;
      const r = await download(from, part, opts);
      downloaded = r.got; resumedFrom = r.resumedFrom;
      await rename(part, archive);
    }
  }

  // 2. Verify.
  opts.log?.(`verifying md5 of ${archive}`);
  const md5 = await md5File(archive);
  if (md5 !== want) {
    if (ours) await rm(archive, { force: true });
    throw new LosstopoError({ code: 'invalid_file', file: archive, expected: want, received: md5 },
      `md5 ${md5} does not match the expected ${want}${ours ? ' (deleted; run again to download it afresh)' : ''}`);
  }

  // 3. Extract into a temporary folder, verify, rename into place.
  opts.log?.(`extracting ${archive}`);
  const inFolder = (p: string): boolean => p.replace(/^\.\//, '').split('/')[0] === layout.folder;
  // Read the whole archive once without writing anything, so a truncated or corrupt archive fails
  // before extraction starts (tar keeps writing for a moment after a mid-stream error).
  try {
    await tar.t({ file: archive, strict: true });
  } catch (e) {
    throw new LosstopoError({ code: 'invalid_file', file: archive }, `archive is truncated or corrupt: ${(e as Error).message}`);
  }
  const tmp = await mkdtemp(join(dataDir, `.${layout.folder}.extract-`));
  try {
    try {
      await tar.x({ file: archive, cwd: tmp, strict: true, filter: inFolder });
    } catch (e) {
      throw new LosstopoError({ code: 'invalid_file', file: archive }, `cannot extract the archive: ${(e as Error).message}`);
    }
    const extracted = join(tmp, layout.folder);
    if (!(await exists(extracted))) throw new LosstopoError({ code: 'invalid_file', file: archive }, `archive does not hold ${layout.folder}/`);
    const counts = await verifyCifarFolder(opts.dataset, extracted).catch((e: unknown) => {
      if (isLosstopoError(e)) throw new LosstopoError({ ...e.info, file: e.info.file?.replace(tmp, archive) }, `in the archive: ${e.message}`);
      throw e;
    });
    try { await rename(extracted, dir); } catch (e) {
      throw new LosstopoError({ code: 'data_error', file: dir }, `cannot move the extracted folder into place: ${(e as Error).message}`);
    }
    return { dataset: opts.dataset, dir, archive, md5, downloaded, resumedFrom, alreadyPresent: false, train: counts.train, test: counts.test };
  } finally {
    await rm(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  }
}
