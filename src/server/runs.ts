/**
 * The runs the dashboard lists: every folder one or two levels under the root that holds a
 * run.json (hidden folders, node_modules and checkpoints/ are not searched; symlinked folders only
 * when they stay under the root), and every losstopo report folder (report.json) among them or in
 * a run's `report/` folder. Summaries are cached per run and recomputed when a file changes.
 */
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { isLosstopoError } from '../errors.js';
import { GENERATOR } from '../report/html.js';
import { colorAt, runLabel } from '../report/label.js';
import { RUN_FILES, readRun } from '../report/read.js';
import type { RunInfo } from '../report/records.js';
import { type RunSummary, summarizeRun } from '../report/summary.js';

export interface RunListEntry {
  /** Path relative to the root, '/'-separated: the run's id in URLs. */
  id: string;
  label: string;
  color: string;
  name?: string;
  kind: string | null;
  status: string | null;
  createdAt?: string;
  updatedAt?: string;
  message?: string;
  summary: RunSummary | null;
  hasRangeTest: boolean;
  hasInterpolation: boolean;
  hasAllPairs: boolean;
  /** URL of the run's report (its report/ folder), when there is one. */
  report: string | null;
  /** Why the run could not be read (a malformed file), when it could not. */
  error?: { code: string; message: string };
}

export interface ReportEntry { id: string; title: string; url: string }

const skip = new Set(['node_modules', 'checkpoints']);

async function isDir(p: string): Promise<boolean> {
  try { return (await stat(p)).isDirectory(); } catch { return false; }
}
async function isFile(p: string): Promise<boolean> {
  try { return (await stat(p)).isFile(); } catch { return false; }
}

const within = (root: string, p: string): boolean => p === root || p.startsWith(root + sep);

export const toId = (root: string, dir: string): string => relative(root, dir).split(sep).join('/');

export const runsUrl = (id: string): string => '/runs/' + id.split('/').map(encodeURIComponent).join('/');

async function reportTitle(dir: string): Promise<string | null> {
  try {
    const doc = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as { generator?: unknown; title?: unknown };
    if (doc.generator !== GENERATOR) return null;
    return typeof doc.title === 'string' ? doc.title : 'report';
  } catch { return null; }
}

/** Run folders (with run.json) and report folders (with a losstopo report.json) under `root` (a real path). */
export async function discover(root: string): Promise<{ runs: string[]; reports: { dir: string; title: string }[] }> {
  const runs: string[] = [];
  const reports: { dir: string; title: string }[] = [];
  const visit = async (dir: string, depth: number): Promise<void> => {
    let names: string[];
    try { names = (await readdir(dir)).sort(); } catch { return; } // deleted meanwhile, or unreadable
    for (const name of names) {
      if (name.startsWith('.') || skip.has(name)) continue;
      const p = join(dir, name);
      if (!(await isDir(p))) continue;
      let real: string;
      try { real = await realpath(p); } catch { continue; }
      if (!within(root, real)) continue;
      if (await isFile(join(p, RUN_FILES.run))) runs.push(p);
      else {
        const title = await reportTitle(p);
        if (title !== null) { reports.push({ dir: p, title }); continue; }
      }
      if (depth < 2) await visit(p, depth + 1);
    }
  };
  await visit(root, 1);
  return { runs, reports };
}

interface Cached { sig: string; entry: Omit<RunListEntry, 'color'> }

/** Lists runs with their key numbers; re-reads a run only when one of its files changed. */
export class RunIndex {
  private cache = new Map<string, Cached>();
  constructor(readonly root: string) {}

  private async signature(dir: string): Promise<string> {
    const parts: string[] = [];
    for (const f of [...Object.values(RUN_FILES), 'report/report.json']) {
      try { const s = await stat(join(dir, f)); parts.push(`${f}:${s.size}:${s.mtimeMs}`); } catch { parts.push(`${f}:-`); }
    }
    return parts.join('|');
  }

  async entry(dir: string): Promise<Omit<RunListEntry, 'color'>> {
    const id = toId(this.root, dir);
    const sig = await this.signature(dir);
    const hit = this.cache.get(id);
    if (hit && hit.sig === sig) return hit.entry;
    let entry: Omit<RunListEntry, 'color'>;
    const reportDir = join(dir, 'report');
    const report = (await reportTitle(reportDir)) !== null ? runsUrl(`${id}/report`) + '/index.html' : null;
    try {
      const run = readRun(dir);
      entry = {
        id, label: runLabel(run.info, dir), ...infoFields(run.info), summary: summarizeRun(run),
        hasRangeTest: !!run.rangeTest, hasInterpolation: (run.interpolation ?? []).length > 0, hasAllPairs: !!run.allPairs, report,
      };
    } catch (e) {
      const err = isLosstopoError(e) ? { code: e.info.code, message: e.format() } : { code: 'internal', message: (e as Error).message };
      entry = { id, label: id, kind: null, status: null, summary: null, hasRangeTest: false, hasInterpolation: false, hasAllPairs: false, report, error: err };
    }
    this.cache.set(id, { sig, entry });
    return entry;
  }

  async list(): Promise<{ runs: RunListEntry[]; reports: ReportEntry[] }> {
    const found = await discover(this.root);
    const ids = new Set(found.runs.map((d) => toId(this.root, d)));
    for (const id of this.cache.keys()) if (!ids.has(id)) this.cache.delete(id); // deleted runs
    const runs: RunListEntry[] = [];
    for (const [i, dir] of found.runs.entries()) runs.push({ ...(await this.entry(dir)), color: colorAt(i) });
    // A run's own report/ is linked from the run; list the others.
    const reports = found.reports.filter((r) => !ids.has(toId(this.root, join(r.dir, '..'))) || !r.dir.endsWith(`${sep}report`))
      .map((r) => ({ id: toId(this.root, r.dir), title: r.title, url: runsUrl(toId(this.root, r.dir)) + '/index.html' }));
    return { runs, reports };
  }
}

export function infoFields(info: RunInfo): Pick<RunListEntry, 'name' | 'kind' | 'status' | 'createdAt' | 'updatedAt' | 'message'> {
  return {
    ...(info.name ? { name: info.name } : {}),
    kind: info.kind, status: info.status,
    ...(info.createdAt ? { createdAt: info.createdAt } : {}),
    ...(info.updatedAt ? { updatedAt: info.updatedAt } : {}),
    ...(info.message ? { message: info.message } : {}),
  };
}
