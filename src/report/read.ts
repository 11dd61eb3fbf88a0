/**
 * Run-folder reader: run.json, metrics.jsonl, range-test.json, interpolation.jsonl and
 * all-pairs.json -> typed records (records.ts).
 *
 * - A JSONL file may be appended to while it is read; its last line may be cut in the middle of a
 *   write. A last line without its newline that does not parse is left out (and the file named in
 *   `partial`); every other malformed line is an error naming the file and the 1-based line.
 * - Unknown extra fields are allowed (later writers may add some); missing or mistyped contract
 *   fields are errors: "expected a number, received \"abc\"".
 * - `null` in a loss/accuracy/lr field (a diverged run: JSON has no NaN) reads as NaN.
 *
 * `readJsonlFrom` is the incremental form the dashboard uses to follow a growing metrics.jsonl:
 * it returns the complete lines after a byte offset and the offset to continue from.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LosstopoError } from '../errors.js';
import type {
  AllPairsRecord, EvalRecord, InterpolationRecord, MetricRecord, RangeTestPoint, RangeTestRecord, RunInfo, RunRecord, TrainRecord,
} from './records.js';

export const RUN_FILES = {
  run: 'run.json',
  metrics: 'metrics.jsonl',
  rangeTest: 'range-test.json',
  interpolation: 'interpolation.jsonl',
  allPairs: 'all-pairs.json',
} as const;

type Obj = Record<string, unknown>;

export interface Where { file: string; line?: number }

function bad(where: Where, path: string, what: string, received: unknown): LosstopoError {
  const got = received === undefined ? 'nothing' : typeof received === 'string' ? JSON.stringify(received) : JSON.stringify(received) ?? String(received);
  return new LosstopoError({ code: 'parse_error', file: where.file, ...(where.line ? { line: where.line } : {}), path, expected: what, received: got },
    `expected ${what}, received ${got}`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A finite number, or NaN where the file holds null (diverged values). */
function num(o: Obj, key: string, where: Where, nullable = true): number {
  const v = o[key];
  if (typeof v === 'number') return v;
  if (v === null && nullable) return NaN;
  throw bad(where, key, nullable ? 'a number (or null)' : 'a number', v);
}

function iterOf(o: Obj, where: Where, key = 'iter'): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad(where, key, 'an integer >= 0', v);
  return v;
}

/** One metrics.jsonl object -> a training or an evaluation record. */
export function parseMetricRecord(v: unknown, where: Where): MetricRecord {
  if (!isObj(v)) throw bad(where, 'line', 'a JSON object', v);
  const iter = iterOf(v, where);
  if ('split' in v) {
    const split = v.split;
    if (split !== 'test' && split !== 'train' && split !== 'val') throw bad(where, 'split', '"test", "train" or "val"', split);
    const r: EvalRecord = { iter, split, loss: num(v, 'loss', where), accuracy: num(v, 'accuracy', where) };
    return r;
  }
  if ('trainLoss' in v) {
    const m = v.momentum;
    if (m !== null && m !== undefined && typeof m !== 'number') throw bad(where, 'momentum', 'a number or null', m);
    const r: TrainRecord = { iter, lr: num(v, 'lr', where), momentum: m ?? null, trainLoss: num(v, 'trainLoss', where) };
    return r;
  }
  throw new LosstopoError({ code: 'parse_error', file: where.file, ...(where.line ? { line: where.line } : {}) },
    'expected a training record {"iter","lr","momentum","trainLoss"} or an evaluation {"iter","split","loss","accuracy"}');
}

/** One interpolation.jsonl object. */
export function parseInterpolationRecord(v: unknown, where: Where): InterpolationRecord {
  if (!isObj(v)) throw bad(where, 'line', 'a JSON object', v);
  const alpha = v.alpha;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw bad(where, 'alpha', 'a finite number', alpha);
  const split = v.split;
  if (split !== 'train' && split !== 'test') throw bad(where, 'split', '"train" or "test"', split);
  return { alpha, split, loss: num(v, 'loss', where), accuracy: num(v, 'accuracy', where) };
}

export interface JsonlResult<T> {
  records: T[];
  /** True when the last line had no newline and did not parse (a write in progress); it is left out. */
  partial: boolean;
}

/**
 * Parses JSONL text. Blank lines are skipped. `firstLine` numbers lines when the text starts in the
 * middle of a file. With `complete`, every line is known to be whole (no partial last line).
 */
export function parseJsonl<T>(text: string, file: string, parse: (v: unknown, where: Where) => T, firstLine = 1, complete = false): JsonlResult<T> {
  const lines = text.split('\n');
  const records: T[] = [];
  let partial = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const last = !complete && i === lines.length - 1; // no newline after it
    const where = { file, line: firstLine + i };
    let v: unknown;
    try { v = JSON.parse(raw); } catch (e) {
      if (last) { partial = true; break; }
      throw new LosstopoError({ code: 'parse_error', file, line: where.line }, `not valid JSON (${(e as Error).message})`);
    }
    records.push(parse(v, where));
  }
  return { records, partial };
}

export interface LinesChunk {
  /** Complete lines (without their newline) after the offset. */
  lines: string[];
  /** Byte offset just after the last complete line; continue from here. */
  offset: number;
  /** The file is now shorter than the offset asked for (rewritten or truncated): start again from 0. */
  shrunk: boolean;
  /** The file is absent. */
  missing: boolean;
}

/**
 * Complete lines (ending in '\n') of a file after byte `offset`; a last line without its newline
 * is left for the next call. Reads at most about `maxBytes` (whole lines; one longer line is read
 * whole).
 */
export function readLinesFrom(file: string, offset: number, maxBytes = 64 * 1024 * 1024): LinesChunk {
  const none = (o: Partial<LinesChunk>): LinesChunk => ({ lines: [], offset, shrunk: false, missing: false, ...o });
  let fd: number;
  try { fd = openSync(file, 'r'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return none({ missing: true });
    throw new LosstopoError({ code: 'invalid_file', file }, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < offset) return none({ shrunk: true });
    if (size === offset) return none({});
    let want = Math.min(size - offset, maxBytes);
    let buf = Buffer.alloc(want);
    let n = readSync(fd, buf, 0, want, offset);
    let end = buf.lastIndexOf(0x0a, n - 1);
    // One line longer than maxBytes: read on until its newline.
    while (end < 0 && offset + n < size) {
      want = Math.min(size - offset, want * 2);
      buf = Buffer.alloc(want);
      n = readSync(fd, buf, 0, want, offset);
      end = buf.lastIndexOf(0x0a, n - 1);
    }
    if (end < 0) return none({});
    // '\n' never occurs inside a UTF-8 multi-byte sequence, so the cut is a character boundary.
    return { lines: buf.subarray(0, end).toString('utf8').split('\n'), offset: offset + end + 1, shrunk: false, missing: false };
  } finally {
    closeSync(fd);
  }
}

/** As LinesChunk, with the lines parsed. */
export interface JsonlChunk<T> extends Omit<LinesChunk, 'lines'> {
  records: T[];
  /** Lines up to `offset`, so the next call passes it as `linesBefore`. */
  lines: number;
}

/**
 * Complete lines of a JSONL file after byte `offset`, parsed. A malformed complete line throws
 * (file and line named; `linesBefore` counts the lines before `offset`).
 */
export function readJsonlFrom<T>(file: string, offset: number, parse: (v: unknown, where: Where) => T,
  o: { linesBefore?: number; maxBytes?: number } = {}): JsonlChunk<T> {
  const linesBefore = o.linesBefore ?? 0;
  const c = readLinesFrom(file, offset, o.maxBytes);
  if (c.lines.length === 0) return { records: [], offset: c.offset, lines: linesBefore, shrunk: c.shrunk, missing: c.missing };
  const { records } = parseJsonl(c.lines.join('\n'), file, parse, linesBefore + 1, true);
  return { records, offset: c.offset, lines: linesBefore + c.lines.length, shrunk: false, missing: false };
}

function readText(file: string): string {
  try { return readFileSync(file, 'utf8'); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LosstopoError({ code: 'missing_file', file }, 'no such file');
    if (code === 'EISDIR') throw new LosstopoError({ code: 'invalid_file', file }, 'is a directory, not a file');
    throw new LosstopoError({ code: 'invalid_file', file }, `cannot be read (${code ?? (e as Error).message})`);
  }
}

function readJson(file: string): unknown {
  const text = readText(file);
  try { return JSON.parse(text); } catch (e) {
    // Point at the line of the offending character when the engine tells where it is.
    const m = /position (\d+)/.exec((e as Error).message);
    const line = m ? text.slice(0, Number(m[1])).split('\n').length : undefined;
    throw new LosstopoError({ code: 'parse_error', file, ...(line ? { line } : {}) }, `not valid JSON (${(e as Error).message})`);
  }
}

/** run.json -> RunInfo. */
export function parseRunInfo(v: unknown, file: string): RunInfo {
  const where = { file };
  if (!isObj(v)) throw bad(where, 'run.json', 'a JSON object', v);
  if (typeof v.kind !== 'string') throw bad(where, 'kind', 'a string ("train", "range-test", "interpolation", ...)', v.kind);
  if (typeof v.status !== 'string') throw bad(where, 'status', 'a string ("running", "completed", "diverged", "failed", "interrupted")', v.status);
  if (v.config !== undefined && !isObj(v.config)) throw bad(where, 'config', 'an object', v.config);
  if (v.name !== undefined && v.name !== null && typeof v.name !== 'string') throw bad(where, 'name', 'a string', v.name);
  const info: RunInfo = {
    kind: v.kind,
    status: v.status,
    config: (v.config as Obj | undefined) ?? {},
    versions: isObj(v.versions) ? v.versions : {},
  };
  if (typeof v.name === 'string' && v.name !== '') info.name = v.name;
  if (typeof v.createdAt === 'string') info.createdAt = v.createdAt;
  if (typeof v.updatedAt === 'string') info.updatedAt = v.updatedAt;
  if (isObj(v.summary)) info.summary = v.summary;
  if (typeof v.message === 'string') info.message = v.message;
  if (typeof v.iter === 'number') info.iter = v.iter;
  return info;
}

export function readRunInfo(dir: string): RunInfo {
  const file = join(dir, RUN_FILES.run);
  if (!existsSync(dir)) throw new LosstopoError({ code: 'missing_file', file: dir }, 'no such run folder');
  if (!statSync(dir).isDirectory()) throw new LosstopoError({ code: 'invalid_file', file: dir }, 'is not a run folder (a run is a folder holding run.json)');
  if (!existsSync(file)) throw new LosstopoError({ code: 'missing_file', file }, 'no such file; a run folder holds run.json');
  return parseRunInfo(readJson(file), file);
}

export function parseRangeTest(v: unknown, file: string): RangeTestRecord {
  if (!isObj(v)) throw bad({ file }, 'range-test.json', 'a JSON object', v);
  if (!Array.isArray(v.points)) throw bad({ file }, 'points', 'an array', v.points);
  const points = v.points.map((p, i): RangeTestPoint => {
    const where = { file };
    const at = (k: string): string => `points[${i}].${k}`;
    if (!isObj(p)) throw bad(where, `points[${i}]`, 'an object', p);
    const n = (k: string, optional: boolean): number | undefined => {
      const x = p[k];
      if (x === undefined && optional) return undefined;
      if (x === null) return NaN;
      if (typeof x !== 'number') throw bad(where, at(k), 'a number', x);
      return x;
    };
    if (typeof p.iter !== 'number' || !Number.isInteger(p.iter) || p.iter < 0) throw bad(where, at('iter'), 'an integer >= 0', p.iter);
    const out: RangeTestPoint = { lr: n('lr', false)!, iter: p.iter, trainLoss: n('trainLoss', false)!, smoothedLoss: n('smoothedLoss', false)! };
    const tl = n('testLoss', true); if (tl !== undefined) out.testLoss = tl;
    const ta = n('testAccuracy', true); if (ta !== undefined) out.testAccuracy = ta;
    return out;
  });
  const suggestions = v.suggestions === undefined ? {} : v.suggestions;
  if (!isObj(suggestions)) throw bad({ file }, 'suggestions', 'an object', suggestions);
  return { points, suggestions };
}

export function parseAllPairs(v: unknown, file: string): AllPairsRecord {
  const where = { file };
  if (!isObj(v)) throw bad(where, 'all-pairs.json', 'a JSON object', v);
  if (!Array.isArray(v.labels) || !v.labels.every((l) => typeof l === 'string')) throw bad(where, 'labels', 'an array of strings', v.labels);
  const n = v.labels.length;
  if (!Array.isArray(v.barrier) || v.barrier.length !== n) throw bad(where, 'barrier', `an array of ${n} rows (one per label)`, Array.isArray(v.barrier) ? `${v.barrier.length} rows` : v.barrier);
  const barrier = v.barrier.map((row, i) => {
    if (!Array.isArray(row) || row.length !== n) throw bad(where, `barrier[${i}]`, `a row of ${n} numbers`, row);
    return row.map((x, j) => {
      if (x === null) return NaN;
      if (typeof x !== 'number') throw bad(where, `barrier[${i}][${j}]`, 'a number (or null)', x);
      return x;
    });
  });
  return { labels: v.labels as string[], barrier };
}

/**
 * Reads a run folder. Only run.json is required; the other files are read when present.
 * Throws LosstopoError naming the file (and line) of the first problem.
 */
export function readRun(dir: string): RunRecord {
  const info = readRunInfo(dir);
  const run: RunRecord = { dir, info, train: [], evals: [], partial: [] };
  const metricsFile = join(dir, RUN_FILES.metrics);
  if (existsSync(metricsFile)) {
    const { records, partial } = parseJsonl(readText(metricsFile), metricsFile, parseMetricRecord);
    for (const r of records) ('split' in r ? run.evals : run.train).push(r as never);
    if (partial) run.partial.push(metricsFile);
  }
  const rangeFile = join(dir, RUN_FILES.rangeTest);
  if (existsSync(rangeFile)) run.rangeTest = parseRangeTest(readJson(rangeFile), rangeFile);
  const interpFile = join(dir, RUN_FILES.interpolation);
  if (existsSync(interpFile)) {
    const { records, partial } = parseJsonl(readText(interpFile), interpFile, parseInterpolationRecord);
    run.interpolation = records;
    if (partial) run.partial.push(interpFile);
  }
  const pairsFile = join(dir, RUN_FILES.allPairs);
  if (existsSync(pairsFile)) run.allPairs = parseAllPairs(readJson(pairsFile), pairsFile);
  return run;
}
