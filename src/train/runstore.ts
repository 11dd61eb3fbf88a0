/**
 * The run folder (DESIGN.md contract): run.json (config, seed, versions, status), metrics.jsonl
 * (one object a line, appended as training goes), checkpoints/. run.json is replaced atomically;
 * metrics are appended and flushed at least every second, at every evaluation and checkpoint.
 * A resume cuts metrics.jsonl back to the byte offset its checkpoint recorded: the rows after it
 * belong to iterations the resumed run recomputes identically.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { LosstopoError } from '../errors.js';
import { buildInfo } from '../engine/index.js';
import { writeFileAtomic } from './atomic.js';

export type RunStatus = 'running' | 'completed' | 'diverged' | 'failed' | 'interrupted';
export type RunKind = 'train' | 'range-test' | 'interpolation' | 'compare' | 'probe';

export interface Versions { losstopo: string; node: string; torch: string; gitCommit: string | null; sourceHash: string }

export interface RunRecord {
  kind: RunKind;
  name?: string;
  status: RunStatus;
  config: unknown;
  seed: number;
  versions: Versions;
  createdAt: string;
  updatedAt: string;
  /** Why the run ended as it did, for diverged/failed/interrupted. */
  message?: string;
  /** Iteration reached (updates applied). */
  iter?: number;
  summary?: Record<string, unknown>;
}

export interface TrainRow { iter: number; lr: number; momentum: number | null; trainLoss: number }
export interface EvalRow { iter: number; split: 'test' | 'train' | 'val'; loss: number; accuracy: number }

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
let cachedVersions: Versions | undefined;

/** losstopo, node and torch versions, git commit and a hash of the source tree. */
export function versions(): Versions {
  if (cachedVersions) return cachedVersions;
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  let gitCommit: string | null = null;
  try { gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { /* not a checkout */ }
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|cc|h|gyp)$/.test(e.name)) hash.update(relative(repoRoot, p)).update(readFileSync(p));
    }
  };
  for (const d of ['src', 'native']) if (existsSync(join(repoRoot, d))) walk(join(repoRoot, d));
  cachedVersions = { losstopo: pkg.version, node: process.version, torch: buildInfo().torchVersion, gitCommit, sourceHash: hash.digest('hex').slice(0, 16) };
  return cachedVersions;
}

export class RunStore {
  private fd: number;
  private pending: string[] = [];
  private lastFlush = Date.now();
  private constructor(readonly dir: string, public record: RunRecord) {
    this.fd = openSync(join(dir, 'metrics.jsonl'), 'a');
  }

  get runJson(): string { return join(this.dir, 'run.json'); }
  get checkpointDir(): string { return join(this.dir, 'checkpoints'); }

  /** A new run folder; refuses one that already holds a run. */
  static create(dir: string, kind: RunKind, config: unknown, seed: number, name?: string): RunStore {
    if (existsSync(join(dir, 'run.json')))
      throw new LosstopoError({ code: 'run_error', file: dir }, 'already holds a run (run.json exists): choose another --out, or continue it with --resume');
    mkdirSync(join(dir, 'checkpoints'), { recursive: true });
    const now = new Date().toISOString();
    const record: RunRecord = { kind, ...(name ? { name } : {}), status: 'running', config, seed, versions: versions(), createdAt: now, updatedAt: now, iter: 0 };
    writeFileAtomic(join(dir, 'run.json'), JSON.stringify(record, null, 2) + '\n');
    return new RunStore(dir, record);
  }

  static readRecord(dir: string): RunRecord {
    const file = join(dir, 'run.json');
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch {
      throw new LosstopoError({ code: 'missing_file', file }, 'no run here (run.json is missing)');
    }
    try { return JSON.parse(text) as RunRecord; } catch {
      throw new LosstopoError({ code: 'invalid_file', file }, 'run.json is not valid JSON');
    }
  }

  /** Reopens a run to continue it; its metrics are cut back to `metricsOffset`. */
  static reopen(dir: string, metricsOffset: number): RunStore {
    const record = RunStore.readRecord(dir);
    const store = new RunStore(dir, record);
    if (fstatSync(store.fd).size > metricsOffset) ftruncateSync(store.fd, metricsOffset);
    store.update({ status: 'running', message: undefined });
    return store;
  }

  update(patch: Partial<RunRecord>): void {
    this.record = { ...this.record, ...patch, updatedAt: new Date().toISOString() };
    for (const k of Object.keys(this.record) as (keyof RunRecord)[]) if (this.record[k] === undefined) delete this.record[k];
    writeFileAtomic(this.runJson, JSON.stringify(this.record, null, 2) + '\n');
  }

  append(row: TrainRow | EvalRow | Record<string, unknown>): void {
    this.pending.push(JSON.stringify(row) + '\n');
    if (Date.now() - this.lastFlush > 1000) this.flush();
  }

  flush(): void {
    if (this.pending.length) {
      const buf = Buffer.from(this.pending.join(''));
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
      this.pending = [];
    }
    this.lastFlush = Date.now();
  }

  /** Bytes of metrics.jsonl written so far (after a flush). */
  metricsOffset(): number {
    this.flush();
    return fstatSync(this.fd).size;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  /** Writes an experiment's result file beside the metrics, then marks the run with its status and summary. */
  finish(file: string, text: string, status: RunStatus, summary: Record<string, unknown>): void {
    writeFileAtomic(join(this.dir, file), text);
    this.update({ status, summary });
  }
}

/** Opens the experiment's run folder; with `continueUnfinished`, one that holds an unfinished run of this kind is reopened. */
export type OpenRun = (kind: RunKind, config: unknown, seed: number, name?: string, continueUnfinished?: boolean) => RunStore | null;

/**
 * An experiment kept in a run folder at `out` (none when undefined). `body` opens the folder once
 * its configuration is resolved; a throw marks the run failed with its message (rows logged so far
 * stay); the folder is always closed.
 */
export async function inRunFolder<T>(out: string | undefined, body: (open: OpenRun) => Promise<T>): Promise<T> {
  let store: RunStore | null = null;
  const open: OpenRun = (kind, config, seed, name, continueUnfinished) => {
    if (!out) return (store = null);
    if (continueUnfinished && existsSync(join(out, 'run.json'))) {
      const rec = RunStore.readRecord(out);
      if (rec.kind !== kind) throw new LosstopoError({ code: 'run_error', file: out }, `holds a ${rec.kind} run, not a ${kind} run`);
      return (store = RunStore.reopen(out, Number.MAX_SAFE_INTEGER));
    }
    return (store = RunStore.create(out, kind, config, seed, name));
  };
  // `store` is assigned inside `open`, which the compiler's narrowing does not see.
  const opened = (): RunStore | null => store;
  try {
    return await body(open);
  } catch (e) {
    opened()?.update({ status: 'failed', message: (e as Error).message });
    throw e;
  } finally {
    opened()?.close();
  }
}

/** Every metrics row of a run (an incomplete last line, from a run still writing, is skipped). */
export function readMetrics(dir: string): (TrainRow | EvalRow)[] {
  const file = join(dir, 'metrics.jsonl');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = text.split('\n');
  const complete = text.endsWith('\n') ? lines.slice(0, -1) : lines.slice(0, -1);
  return complete.filter((l) => l.trim()).map((l, i) => {
    try { return JSON.parse(l) as TrainRow | EvalRow; } catch {
      throw new LosstopoError({ code: 'invalid_file', file, line: i + 1 }, 'not a JSON object');
    }
  });
}
