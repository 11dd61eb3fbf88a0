/**
 * Runs a reproduction plan: each step writes its own folder under `out`; a step whose folder holds
 * a completed run is skipped, so an interrupted reproduction continues where it stopped. Then one
 * report of every figure's runs is written to `out/report`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runRangeTests } from '../experiments/range-test.js';
import { runCompare } from '../experiments/compare.js';
import { runInterpolation } from '../experiments/interpolation.js';
import { progressHook } from '../train/progress-hook.js';
import { RunStore } from '../train/runstore.js';
import { resolveTrainConfig } from '../train/config.js';
import { train } from '../train/trainer.js';
import { checkpointFile } from '../train/checkpoint.js';
import { writeReport, type ReportResult } from '../report/index.js';
import { LosstopoError } from '../errors.js';
import type { FigurePlan, Step } from './presets.js';

export interface ReproduceOptions {
  out: string;
  quiet?: boolean;
  log?: (line: string) => void;
  /** Caffe logs to overlay in the report. */
  caffeLogs?: string[];
}

const done = (dir: string): boolean => existsSync(join(dir, 'run.json')) && RunStore.readRecord(dir).status === 'completed';
/** A range test that diverged has its result too (the sweep found where the loss explodes). */
const rangeDone = (dir: string): boolean => done(dir) || (existsSync(join(dir, 'run.json')) && RunStore.readRecord(dir).status === 'diverged');

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
  if (existsSync(join(dir, 'run.json'))) {
    throw new LosstopoError({ code: 'run_error', file: dir }, `holds an unfinished run (${RunStore.readRecord(dir).status}); continue it with \`losstopo train --resume ${dir}\` or remove it`);
  }
  log(`${step.kind} ${step.dir}`);
  if (step.kind === 'train') {
    const r = await train(resolveTrainConfig(step.config), { out: dir, hooks: [progressHook(step.dir, o.quiet)], handleSignals: true });
    if (r.status !== 'completed') throw new LosstopoError({ code: 'run_error', file: dir }, `run ${r.status}: ${r.message ?? ''}`);
  } else if (step.kind === 'compare') {
    const r = await runCompare({ train: step.train, clr: { policy: 'triangular', ...step.clr }, baseline: step.baseline, target: step.target },
      { out: dir, hooks: (name) => [progressHook(`${step.dir} ${name}`, o.quiet)], handleSignals: true });
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

export async function reproduce(plans: readonly FigurePlan[], o: ReproduceOptions): Promise<{ report: ReportResult; figures: FigurePlan[] }> {
  const seen = new Set<string>();
  for (const p of plans) {
    o.log?.(`== ${p.id}: ${p.title}`);
    for (const step of p.steps) {
      const key = step.kind === 'range-test' ? `${step.dir}:${step.models.join(',')}` : step.dir;
      if (seen.has(key)) continue;
      seen.add(key);
      await runStep(step, o.out, o);
    }
  }
  const dirs = [...new Set(plans.flatMap((p) => p.report))].map((d) => join(o.out, d));
  const report = await writeReport(dirs, join(o.out, 'report'), { title: `losstopo reproduction: ${plans.map((p) => p.id).join(', ')}`, ...(o.caffeLogs ? { caffeLogs: o.caffeLogs } : {}) });
  return { report, figures: [...plans] };
}
