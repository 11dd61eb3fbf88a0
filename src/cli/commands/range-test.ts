/**
 * `losstopo range-test`: the LR range test (Smith 2015; Smith & Topin 2017 Fig. 1b) into a run
 * folder (kind 'range-test') with range-test.json (points and suggested LRs). `--models a,b,c`
 * runs one test per model into OUT/<model>. A test checkpoints every fifth of its sweep, so a killed one
 * continues with `--resume DIR` and the same flags. Exit codes: 0 completed (also when stopped by
 * --stop-on-divergence), 2 bad input, 3 diverged (NaN/inf loss; the result is still written).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LosstopoError } from '../../errors.js';
import { RunStore } from '../../train/runstore.js';
import { scheduleOptions } from '../../schedules/index.js';
import { trainKeys } from '../../train/config.js';
import { progressHook } from '../../train/progress-hook.js';
import { rangeTestDefaults as d, rangeTestDoc, runRangeTest, runRangeTests, type RangeTestConfig, type RangeTestResult } from '../../experiments/range-test.js';
import type { Command } from '../command.js';
import { helpText, parseOptions, type OptTable } from '../options.js';
import { exitCodeOf, readConfigFile, trainOptions } from './train.js';

const excluded = new Set([...Object.keys(scheduleOptions), 'solver', 'resume', 'testSize', 'testInterval', 'snapshot', 'out', 'quiet']);
const modelDataOptions = Object.fromEntries(Object.entries(trainOptions).filter(([k]) => !excluded.has(k))) as OptTable;

export const rangeTestOptions = {
  ...modelDataOptions,
  models: { type: 'strings', description: 'several models, one range test each into OUT/<model> (for an overlay, as Fig. 1b)' },
  minLr: { type: 'number', min: 0, description: `LR at iteration 0 (default ${d.minLr}; exp mode: 0 means ${d.expStartLr})` },
  maxLr: { type: 'number', min: 0, description: `LR at the last iteration (default ${d.maxLr})` },
  iters: { type: 'int', min: 1, description: `iterations of the sweep (default ${d.iters})` },
  mode: { type: 'enum', choices: ['linear', 'exp'] as const, description: `LR sweep: linear (the paper) or exp (fastai lr_find) (default ${d.mode})` },
  evalEvery: { type: 'int', min: 1, description: `evaluate the test subset every K iterations (default ${d.evalEvery})` },
  evalSize: { type: 'int', min: 1, description: `images of the fixed class-balanced test subset (default ${d.evalSize})` },
  stopOnDivergence: { type: 'boolean', description: `stop when the smoothed loss exceeds ${d.divergeFactor}x its minimum (fastai; default off)` },
  divergeFactor: { type: 'number', min: 1, description: `factor of the divergence rule (default ${d.divergeFactor})` },
  beta: { type: 'number', min: 0, description: `smoothing of the training loss (default ${d.beta})` },
  snapshot: { type: 'int', min: 0, description: 'checkpoint every K iterations, for --resume (default: every fifth of the sweep; 0: only at the end)' },
  resume: { type: 'string', description: 'continue the interrupted test in this folder (the same flags as its start; with --models, the parent folder)' },
  out: { type: 'string', description: 'run folder to create (default runs/range-test-<timestamp>)' },
  quiet: { type: 'boolean', default: false, description: 'no progress bar' },
} satisfies OptTable;

/** The range-test configuration from parsed flags (config file < flags). */
export function rangeTestConfigFromFlags(values: Record<string, unknown>, given: Set<string>): RangeTestConfig {
  let trainPart: Record<string, unknown> = {};
  if (values.config) trainPart = { ...readConfigFile(values.config as string) };
  for (const k of Object.keys(modelDataOptions)) if (given.has(k) && trainKeys.includes(k)) trainPart[k] = values[k];
  for (const k of ['schedule', 'maxIter', 'testInterval', 'testSize', 'snapshot']) {
    if (k in trainPart) throw new LosstopoError({ code: 'invalid_config', path: k, ...(values.config ? { file: values.config as string } : {}) }, 'is set by the range test (use --min-lr/--max-lr/--iters/--mode/--eval-every/--eval-size)');
  }
  const c: RangeTestConfig = { train: trainPart };
  for (const k of ['minLr', 'maxLr', 'iters', 'mode', 'evalEvery', 'evalSize', 'stopOnDivergence', 'divergeFactor', 'beta', 'snapshot'] as const) {
    if (values[k] !== undefined) (c as unknown as Record<string, unknown>)[k] = values[k];
  }
  c.snapshot ??= Math.max(1, Math.round((c.iters ?? d.iters) / 5));
  return c;
}

export function summaryOf(r: RangeTestResult): Record<string, unknown> {
  const evals = r.points.filter((p) => p.testAccuracy !== undefined);
  const best = evals.reduce<typeof evals[number] | null>((b, p) => (!b || p.testAccuracy! > b.testAccuracy! ? p : b), null);
  return {
    model: r.config.model, status: r.status, ...(r.message ? { message: r.message } : {}), ...(r.stopReason ? { stopReason: r.stopReason } : {}),
    runDir: r.runDir, iterations: r.points.filter((p) => p.trainLoss !== null || p.smoothedLoss !== null).length,
    bestTestAccuracy: best?.testAccuracy ?? null, bestTestLr: best?.lr ?? null,
  };
}

/** `--resume DIR` must name a started test (or, with --models, a folder of them) that has not finished. */
function resumable(dir: string, multi: boolean): void {
  if (multi) {
    if (!existsSync(dir)) throw new LosstopoError({ code: 'invalid_option', path: '--resume', file: dir }, 'does not exist');
    return;
  }
  if (!existsSync(join(dir, 'run.json'))) throw new LosstopoError({ code: 'invalid_option', path: '--resume', file: dir }, 'holds no run (run.json is missing)');
  const { status } = RunStore.readRecord(dir);
  if (status === 'completed' || status === 'diverged') throw new LosstopoError({ code: 'invalid_option', path: '--resume', file: dir }, `holds a test that ended (${status}); nothing to continue`);
}

const command: Command = {
  summary: 'LR range test: sweep the LR, log losses and test accuracy, suggest CLR/one-cycle bounds',
  async run(argv, io) {
    const { values, given, help, json } = parseOptions('range-test', rangeTestOptions, argv);
    if (help) { io.out(helpText('range-test', this.summary, rangeTestOptions)); return 0; }
    const config = rangeTestConfigFromFlags(values as Record<string, unknown>, given as Set<string>);
    const models = (values.models as string[] | undefined) ?? [String(config.train.model ?? 'resnet20')];
    const multi = values.models !== undefined;
    const resume = values.resume;
    if (resume !== undefined) resumable(resume, multi);
    const out = resume ?? values.out ?? `runs/range-test-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const o = { hooks: [progressHook('range-test', values.quiet)], handleSignals: true };
    const results = multi
      ? await runRangeTests(models, config, { ...o, out, continueUnfinished: resume !== undefined })
      : [await runRangeTest(config, { ...o, ...(resume !== undefined ? { resume } : { out }) })];
    for (const r of results) {
      if (r.status !== 'completed') io.err(`losstopo range-test: ${r.config.model} ${r.status}: ${r.message ?? ''} (result kept in ${r.runDir}${r.status === 'interrupted' ? '; continue with the same flags and --resume' : ''})`);
      const s = r.suggestions;
      const f = (x: { lr: number } | null): string => (x ? x.lr.toPrecision(3) : 'n/a');
      io.out(`${r.config.model}: ${r.status}${r.stopReason ? ` (${r.stopReason})` : ''}; CLR base ${f(s.baseLr)} max ${f(s.maxLr)} (base alt ${f(s.baseLrFromMax)}), one-cycle max ${f(s.oneCycleMaxLr)}, valley ${f(s.valley)}, steepest ${f(s.steepest)}; ${r.runDir}/range-test.json`);
    }
    if (json) {
      const docs = results.map((r) => ({ ...summaryOf(r), ...rangeTestDoc(r) }));
      io.json(multi ? { runs: docs } : docs[0]);
    }
    const worst = results.find((r) => r.status !== 'completed');
    return worst ? exitCodeOf(worst.status) : 0;
  },
};
export default command;
