/**
 * A report folder: index.html, every figure as <id>.svg and <id>.png, and report.json (the key
 * numbers and figure list, for scripts). Written into a temporary sibling folder and renamed into
 * place, so a failure leaves no half-written report; an existing report at the same place is
 * replaced, any other non-empty folder is refused.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { formatIssue } from '../caffe/issues.js';
import { type CaffeLog, readCaffeLog } from '../caffe/log.js';
import { LosstopoError } from '../errors.js';
import { type Figure, type FigureOptions, type FigureSeries, allFigures, caffeSeries } from './figures.js';
import { GENERATOR, type ReportFigureRef, type ReportRun, reportHtml } from './html.js';
import { colorAt, runLabel, uniqueLabels } from './label.js';
import { readRun, readRunInfo } from './read.js';
import type { RunRecord } from './records.js';
import { renderPng, renderSvg, svgSize } from './render.js';
import { summarizeRun } from './summary.js';

export interface CaffeInput {
  /** The log file (used for the label and the table). */
  file: string;
  log: CaffeLog;
}

export interface ReportOptions {
  /** Test accuracy (fraction, 0..1) for the "iterations to target" column. */
  target?: number;
  /** Caffe training logs to overlay (authors' curves). */
  caffeLogs?: string[];
  /** PNG width in pixels (default: twice the SVG width). */
  pngWidth?: number;
  title?: string;
  figures?: FigureOptions;
  /** Time stamp shown in the report (default: now). */
  now?: Date;
  /** Progress lines (figure being rendered). */
  onProgress?: (line: string) => void;
}

export interface ReportContents {
  series: FigureSeries[];
  figures: Figure[];
  runs: ReportRun[];
  notes: string[];
}

/** Label of a Caffe log: "caffe: <file stem>". */
export const caffeLabel = (file: string): string => `caffe: ${basename(file).replace(/\.log$/i, '')}`;

/**
 * Everything a report shows, from records (pure): labelled, coloured series, the figures' specs
 * and the table rows. Colours follow run order (runs first, then Caffe logs).
 */
export function buildReport(runs: readonly RunRecord[], caffe: readonly CaffeInput[] = [], o: ReportOptions = {}): ReportContents {
  const items = [
    ...runs.map((r) => ({ label: runLabel(r.info, r.dir), dir: r.dir })),
    ...caffe.map((c) => ({ label: caffeLabel(c.file), dir: c.file })),
  ];
  const labels = uniqueLabels(items);
  const series: FigureSeries[] = [];
  const rows: ReportRun[] = [];
  const notes: string[] = [];
  const sum = o.target === undefined ? {} : { target: o.target };
  runs.forEach((r, i) => {
    const label = labels[i]!, color = colorAt(i);
    const s: FigureSeries = { label, color, source: 'losstopo', kind: r.info.kind, train: r.train, evals: r.evals };
    if (r.rangeTest) s.rangeTest = r.rangeTest;
    if (r.interpolation) s.interpolation = r.interpolation;
    if (r.allPairs) s.allPairs = r.allPairs;
    series.push(s);
    const { name, kind, status, config, versions, createdAt, updatedAt } = r.info;
    rows.push({ label, color, path: r.dir, source: 'losstopo', summary: summarizeRun(r, sum), config: { name, kind, status, createdAt, updatedAt, config, versions } });
    for (const f of r.partial) notes.push(`${f}: the last line was incomplete (being written) and was left out.`);
    if (r.info.status === 'running') notes.push(`${label}: the run was still running when this report was made.`);
  });
  caffe.forEach((c, k) => {
    const i = runs.length + k;
    const label = labels[i]!, color = colorAt(i);
    const s = caffeSeries(label, color, c.log);
    series.push(s);
    const pseudo: RunRecord = { dir: c.file, info: { kind: 'caffe log', status: 'imported', config: c.log.solver, versions: {} }, train: [...s.train], evals: [...s.evals], partial: [] };
    rows.push({ label, color, path: c.file, source: 'caffe', summary: summarizeRun(pseudo, sum), config: { solver: c.log.solver } });
  });
  return { series, figures: allFigures(series, o.figures), runs: rows, notes };
}

export interface ReportResult {
  /** The report folder (absolute). */
  out: string;
  /** Its index.html (absolute). */
  index: string;
  /** Every figure file written (absolute): <id>.svg and <id>.png for each figure. */
  figures: string[];
  runs: ReportRun[];
}

/**
 * Run folders to report: a `compare` folder (the CLR-vs-baseline experiment: OUT/run.json with the
 * compared runs in subfolders) stands for the runs inside it; other folders stand for themselves.
 */
export function expandRunDirs(dirs: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    const info = readRunInfo(d);
    if (info.kind !== 'compare') { out.push(d); continue; }
    const children = readdirSync(d, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && existsSync(join(d, e.name, 'run.json')))
      .map((e) => join(d, e.name)).sort();
    if (children.length === 0) out.push(d); else out.push(...children);
  }
  return out;
}

/** Refuses to replace a non-empty folder that is not a losstopo report. */
function checkOut(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new LosstopoError({ code: 'invalid_option', path: '--out', received: out }, 'exists and is not a folder');
  if (readdirSync(out).length === 0) return;
  const marker = join(out, 'report.json');
  let ok = false;
  try { ok = (JSON.parse(readFileSync(marker, 'utf8')) as { generator?: unknown }).generator === GENERATOR; } catch { ok = false; }
  if (!ok) {
    throw new LosstopoError({ code: 'invalid_option', path: '--out', received: out },
      'is a non-empty folder that is not a losstopo report (no report.json); choose a new or empty folder');
  }
}

/**
 * Reads the runs (and Caffe logs), renders every figure and writes the report folder atomically.
 * Returns absolute paths.
 */
export async function writeReport(runDirs: readonly string[], outDir: string, o: ReportOptions = {}): Promise<ReportResult> {
  if (runDirs.length === 0 && (o.caffeLogs ?? []).length === 0) {
    throw new LosstopoError({ code: 'invalid_option', path: 'RUN_DIR' }, 'expected at least one run folder (or --caffe-log FILE)');
  }
  const out = resolve(outDir);
  checkOut(out);
  const runs = expandRunDirs(runDirs).map((d) => readRun(d));
  const caffe: CaffeInput[] = [];
  const caffeNotes: string[] = [];
  for (const file of o.caffeLogs ?? []) {
    const read = readCaffeLog(file);
    for (const i of read.issues) caffeNotes.push(formatIssue(i));
    caffe.push({ file, log: read.log });
  }
  const contents = buildReport(runs, caffe, o);
  const notes = [...contents.notes, ...caffeNotes];

  const parent = dirname(out);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(out)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp);
  try {
    const refs: ReportFigureRef[] = [];
    for (const f of contents.figures) {
      o.onProgress?.(`rendering ${f.id}`);
      const svg = await renderSvg(f.spec);
      const { width, height } = svgSize(svg);
      writeFileSync(join(tmp, `${f.id}.svg`), svg);
      writeFileSync(join(tmp, `${f.id}.png`), renderPng(svg, o.pngWidth === undefined ? {} : { width: o.pngWidth }));
      refs.push({ id: f.id, title: f.title, caption: f.caption, svg: `${f.id}.svg`, png: `${f.id}.png`, width, height });
    }
    const generatedAt = (o.now ?? new Date()).toISOString();
    const title = o.title ?? (contents.runs.length === 1 ? `losstopo report: ${contents.runs[0]!.label}` : `losstopo report: ${contents.runs.length} runs`);
    writeFileSync(join(tmp, 'index.html'), reportHtml({ title, generatedAt, runs: contents.runs, figures: refs, notes }));
    writeFileSync(join(tmp, 'report.json'), JSON.stringify({
      generator: GENERATOR, title, generatedAt,
      runs: contents.runs.map((r) => ({ label: r.label, color: r.color, path: r.path, source: r.source, summary: r.summary })),
      figures: refs.map(({ id, title: t, svg, png }) => ({ id, title: t, svg, png })),
      notes,
    }, null, 2) + '\n');
    if (existsSync(out)) {
      const old = join(parent, `.${basename(out)}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
      renameSync(out, old);
      try { renameSync(tmp, out); } catch (e) { renameSync(old, out); throw e; }
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, out);
    }
    return {
      out,
      index: join(out, 'index.html'),
      figures: refs.flatMap((r) => [join(out, r.svg), join(out, r.png)]),
      runs: contents.runs,
    };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
