/**
 * Runs a reproduction plan: each step writes its own folder under `out`; a step whose folder holds
 * a completed run is skipped, so an interrupted reproduction continues where it stopped. Then each
 * figure gets its own report in `out/report/<figure>/` (the authors' matching Caffe logs overlaid
 * when `caffeLogDir` holds them), and `out/report/index.html` links them all.
 */
import { existsSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { runRangeTests } from '../experiments/range-test.js';
import { runCompare } from '../experiments/compare.js';
import { runInterpolation } from '../experiments/interpolation.js';
import { progressHook } from '../train/progress-hook.js';
import { RunStore } from '../train/runstore.js';
import { resolveTrainConfig } from '../train/config.js';
import { train } from '../train/trainer.js';
import { checkpointFile, listCheckpoints } from '../train/checkpoint.js';
import { overviewHtml, writeReport, type ReportSection } from '../report/index.js';
import { writeFileAtomic } from '../train/atomic.js';
import { LosstopoError } from '../errors.js';
import type { FigurePlan, Step } from './presets.js';

export interface ReproduceOptions {
  out: string;
  quiet?: boolean;
  log?: (line: string) => void;
  /** Caffe logs to overlay in every figure's report. */
  caffeLogs?: string[];
  /** Folder of the authors' Caffe logs: each figure overlays the ones its plan names (when present). */
  caffeLogDir?: string;
}

export interface ReproduceResult {
  /** out/report/index.html (the overview). */
  index: string;
  /** Each figure's own report index.html. */
  reports: Record<string, string>;
  figures: FigurePlan[];
}

const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);

/** One line of key numbers for the overview: each run's final (best) test accuracy. */
function keyNumbers(runs: { label: string; source: string; summary: { finalTestAccuracy: number | null; bestTestAccuracy: number | null; iterations: number | null } }[]): string {
  return runs.filter((r) => r.summary.finalTestAccuracy !== null)
    .map((r) => `${r.label}${r.source === 'caffe' ? ' (authors)' : ''}: ${pct(r.summary.finalTestAccuracy)} final, ${pct(r.summary.bestTestAccuracy)} best, ${r.summary.iterations ?? '-'} its`).join('; ');
}

const done = (dir: string): boolean => existsSync(join(dir, 'run.json')) && RunStore.readRecord(dir).status === 'completed';
/** A range test that diverged has its result too (the sweep found where the loss explodes). */
const rangeDone = (dir: string): boolean => done(dir) || (existsSync(join(dir, 'run.json')) && RunStore.readRecord(dir).status === 'diverged');

export interface PlannedStep { figure: string; dir: string; kind: Step['kind']; iterations: number; images: number; state: 'done' | 'started' | 'to run' }

/** What a reproduction would do in `out` (nothing is run): each step once, its cost and state. */
export function describePlan(plans: readonly FigurePlan[], out: string): PlannedStep[] {
  const rows: PlannedStep[] = [];
  const seen = new Set<string>();
  // 'started': running now, or interrupted (a rerun continues it where it can).
  const state = (dir: string, isDone: (d: string) => boolean): PlannedStep['state'] =>
    isDone(dir) ? 'done' : existsSync(join(dir, 'run.json')) ? 'started' : 'to run';
  const batchOf = (c: Record<string, unknown>): number => (typeof c.batch === 'number' ? c.batch : 128);
  for (const p of plans) {
    for (const step of p.steps) {
      const dirs = step.kind === 'range-test' ? step.models.map((m) => `${step.dir}/${m}`) : [step.dir];
      for (const d of dirs) {
        if (seen.has(d)) continue;
        seen.add(d);
        const dir = join(out, d);
        if (step.kind === 'range-test') rows.push({ figure: p.id, dir: d, kind: step.kind, iterations: step.iters, images: step.iters * batchOf(step.train), state: state(dir, rangeDone) });
        else if (step.kind === 'train') { const n = Number(step.config.maxIter); rows.push({ figure: p.id, dir: d, kind: step.kind, iterations: n, images: n * batchOf(step.config), state: state(dir, done) }); }
        else if (step.kind === 'compare') { const n = step.clr.iters + step.baseline.iters; rows.push({ figure: p.id, dir: d, kind: step.kind, iterations: n, images: n * batchOf(step.train), state: state(dir, done) }); }
        else {
          const points = Math.round((step.alphas.stop - step.alphas.start) / step.alphas.step) + 1;
          rows.push({ figure: p.id, dir: d, kind: step.kind, iterations: points, images: points * (step.trainSize + step.testSize), state: state(dir, done) });
        }
      }
    }
  }
  return rows;
}

async function runStep(step: Step, out: string, o: ReproduceOptions): Promise<void> {
  const dir = join(out, step.dir);
  const log = o.log ?? (() => {});
  if (step.kind === 'range-test') {
    const pending = step.models.filter((m) => !rangeDone(join(dir, m)));
    if (!pending.length) { log(`skip ${step.dir} (done)`); return; }
    log(`range test ${step.dir}: ${pending.map((m) => existsSync(join(dir, m, 'run.json')) ? `${m} (resumed)` : m).join(', ')}`);
    const rs = await runRangeTests(pending, { train: step.train, minLr: step.minLr, maxLr: step.maxLr, iters: step.iters, evalEvery: step.evalEvery, evalSize: step.evalSize, snapshot: step.snapshot },
      { out: dir, hooks: [progressHook(`range ${step.dir}`, o.quiet)], handleSignals: true, continueUnfinished: true });
    for (const r of rs) if (r.status === 'interrupted' || r.status === 'failed') throw new LosstopoError({ code: 'run_error', file: r.runDir ?? dir }, `range test ${r.status}: ${r.message ?? ''}`);
    return;
  }
  if (done(dir)) { log(`skip ${step.dir} (done)`); return; }
  // An interrupted training run or comparison continues from its checkpoints; an unfinished interpolation is redone by hand.
  const resume = existsSync(join(dir, 'run.json'));
  if (resume && step.kind !== 'compare' && !(step.kind === 'train' && listCheckpoints(join(dir, 'checkpoints'), true).length > 0)) {
    throw new LosstopoError({ code: 'run_error', file: dir }, `holds an unfinished run (${RunStore.readRecord(dir).status}) that cannot be continued; remove it to run the step again`);
  }
  log(`${step.kind} ${step.dir}${resume ? ' (resumed)' : ''}`);
  if (step.kind === 'train') {
    const r = await train(resolveTrainConfig(step.config), { ...(resume ? { resume: dir } : { out: dir }), hooks: [progressHook(step.dir, o.quiet)], handleSignals: true });
    if (r.status !== 'completed') throw new LosstopoError({ code: 'run_error', file: dir }, `run ${r.status}: ${r.message ?? ''}`);
  } else if (step.kind === 'compare') {
    const r = await runCompare({ train: step.train, clr: { policy: 'triangular', ...step.clr }, baseline: step.baseline, target: step.target },
      { out: dir, hooks: (name) => [progressHook(`${step.dir} ${name}`, o.quiet)], handleSignals: true, continueUnfinished: resume });
    for (const arm of [r.clr, r.baseline]) if (arm.status !== 'completed') throw new LosstopoError({ code: 'run_error', file: dir }, `${arm.name} run ${arm.status}: ${arm.message ?? ''}`);
  } else {
    const from = checkpointFile(join(out, step.from.run, 'checkpoints'), step.from.iter);
    const to = checkpointFile(join(out, step.to.run, 'checkpoints'), step.to.iter);
    const { start, stop, step: d } = step.alphas;
    const alphas = Array.from({ length: Math.round((stop - start) / d) + 1 }, (_, i) => Math.round((start + i * d) * 1e6) / 1e6);
    let n = 0;
    await runInterpolation({ from, to, alphas, trainSize: step.trainSize, data: { testSize: step.testSize } },
      { out: dir, onPoint: (p) => { if (p.split === 'test') log(`  ${step.dir} alpha ${p.alpha} (${++n}/${alphas.length})`); } });
  }
}

export async function reproduce(plans: readonly FigurePlan[], o: ReproduceOptions): Promise<ReproduceResult> {
  // A step shared by two figures (fig1a's LR-0.35 run is fig3a's too) runs once.
  const keyOf = (step: Step): string => (step.kind === 'range-test' ? `${step.dir}:${step.models.join(',')}` : step.dir);
  const total = new Set(plans.flatMap((p) => p.steps.map(keyOf))).size;
  const seen = new Set<string>();
  for (const p of plans) {
    o.log?.(`== ${p.id}: ${p.title}`);
    for (const step of p.steps) {
      const key = keyOf(step);
      if (seen.has(key)) continue;
      seen.add(key);
      const n = seen.size;
      await runStep(step, o.out, { ...o, log: (l) => o.log?.(`[${n}/${total}] ${l}`) });
    }
  }
  const top = join(o.out, 'report');
  const sections: ReportSection[] = [];
  const reports: Record<string, string> = {};
  for (const p of plans) {
    const named = o.caffeLogDir ? p.overlays.map((f) => join(o.caffeLogDir!, f)) : [];
    for (const f of named) if (!existsSync(f)) o.log?.(`  ${f} not found: not overlaid`);
    const authors = named.filter((f) => existsSync(f));
    const logs = [...authors, ...(o.caffeLogs ?? [])];
    o.log?.(`report ${p.id}${logs.length ? ` (overlaid: ${logs.map((f) => basename(f)).join(', ')})` : ''}`);
    const r = await writeReport(p.report.map((d) => join(o.out, d)), join(top, p.id), { title: `${p.id}: ${p.title}`, caffeLogs: logs });
    reports[p.id] = r.index;
    const note = keyNumbers(r.runs);
    sections.push({
      id: p.id, title: p.title, expect: p.expect, href: `${p.id}/index.html`,
      figures: r.figures.filter((f) => f.endsWith('.png')).map((f) => ({ title: basename(f, '.png'), png: relative(top, f) })),
      ...(note ? { note } : {}),
    });
  }
  const index = join(top, 'index.html');
  writeFileAtomic(index, overviewHtml(`losstopo reproduction: ${plans.map((p) => p.id).join(', ')}`, new Date().toISOString(), sections));
  return { index, reports, figures: [...plans] };
}
