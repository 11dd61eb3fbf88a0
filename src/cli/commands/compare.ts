/**
 * `losstopo compare`: a CLR (triangular) or one-cycle run against a multistep baseline on the same
 * model and data (Smith & Topin 2017 Fig. 2b), into OUT/clr and OUT/baseline with OUT/run.json
 * (kind 'compare') and OUT/compare.json. Reports final and best test accuracy and the iterations
 * to reach --target for each. Exit codes: 0 both completed, 2 bad input, 3 a run diverged.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LosstopoError } from '../../errors.js';
import { scheduleOptions } from '../../schedules/index.js';
import { trainKeys } from '../../train/config.js';
import { progressHook } from '../../train/progress-hook.js';
import { compareDefaults as d, compareDoc, runCompare, type CompareConfig } from '../../experiments/compare.js';
import type { Command } from '../command.js';
import { helpText, parseOptions, type OptTable } from '../options.js';
import { exitCodeOf, readConfigFile, trainOptions } from './train.js';

const excluded = new Set([...Object.keys(scheduleOptions), 'solver', 'resume', 'snapshot', 'out', 'quiet']);
const shared = Object.fromEntries(Object.entries(trainOptions).filter(([k]) => !excluded.has(k))) as OptTable;

export const compareOptions = {
  ...shared,
  clrPolicy: { type: 'enum', choices: ['triangular', 'one_cycle'] as const, description: `CLR run's policy (default ${d.clr.policy})` },
  clrBaseLr: { type: 'number', min: 0, description: `CLR lower LR (one_cycle: start LR = max/div-factor) (default ${d.clr.baseLr})` },
  clrMaxLr: { type: 'number', min: 0, description: `CLR upper LR (default ${d.clr.maxLr})` },
  clrStepsize: { type: 'int', min: 1, description: `CLR half-cycle in iterations; snapshots every 2x this (default ${d.clr.stepsize})` },
  clrIters: { type: 'int', min: 1, description: `CLR run length (default ${d.clr.iters})` },
  baseline: { type: 'enum', choices: ['multistep'] as const, default: 'multistep', description: 'baseline policy' },
  baselineLr: { type: 'number', min: 0, description: `baseline initial LR (default ${d.baseline.lr})` },
  baselineStepvalue: { type: 'numbers', description: `baseline LR drops (iterations) (default ${d.baseline.stepvalue.join(',')})` },
  baselineGamma: { type: 'number', min: 0, description: `baseline drop factor (default ${d.baseline.gamma})` },
  baselineIters: { type: 'int', min: 1, description: `baseline run length (default ${d.baseline.iters})` },
  target: { type: 'number', min: 0, max: 1, description: `test accuracy for iterations-to-target (default ${d.target})` },
  resume: { type: 'string', description: 'continue the interrupted comparison in this folder (the same flags as its start): a completed arm is kept, an interrupted one resumes' },
  out: { type: 'string', description: 'folder to create (default runs/compare-<timestamp>)' },
  quiet: { type: 'boolean', default: false, description: 'no progress bar' },
} satisfies OptTable;

export function compareConfigFromFlags(values: Record<string, unknown>, given: Set<string>): CompareConfig {
  let trainPart: Record<string, unknown> = {};
  if (values.config) trainPart = { ...readConfigFile(values.config as string) };
  for (const k of Object.keys(shared)) if (given.has(k) && trainKeys.includes(k)) trainPart[k] = values[k];
  const pick = (pairs: [string, string][]): Record<string, unknown> => Object.fromEntries(pairs.filter(([f]) => values[f] !== undefined).map(([f, k]) => [k, values[f]]));
  return {
    train: trainPart,
    clr: pick([['clrPolicy', 'policy'], ['clrBaseLr', 'baseLr'], ['clrMaxLr', 'maxLr'], ['clrStepsize', 'stepsize'], ['clrIters', 'iters']]),
    baseline: pick([['baselineLr', 'lr'], ['baselineStepvalue', 'stepvalue'], ['baselineGamma', 'gamma'], ['baselineIters', 'iters']]),
    ...(values.target !== undefined ? { target: values.target as number } : {}),
  };
}

const command: Command = {
  summary: 'CLR / one-cycle against a multistep baseline on the same model and data (super-convergence, Fig. 2b)',
  async run(argv, io) {
    const { values, given, help, json } = parseOptions('compare', compareOptions, argv);
    if (help) { io.out(helpText('compare', this.summary, compareOptions)); return 0; }
    const config = compareConfigFromFlags(values as Record<string, unknown>, given as Set<string>);
    const resume = values.resume;
    if (resume !== undefined && !existsSync(join(resume, 'run.json'))) throw new LosstopoError({ code: 'invalid_option', path: '--resume', file: resume }, 'holds no comparison (run.json is missing)');
    const out = resume ?? values.out ?? `runs/compare-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const r = await runCompare(config, { out, hooks: (name) => [progressHook(`compare ${name}`, values.quiet)], handleSignals: true, continueUnfinished: resume !== undefined });
    const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`);
    for (const a of [r.clr, r.baseline]) {
      if (a.status !== 'completed') io.err(`losstopo compare: ${a.name} run ${a.status}: ${a.message ?? ''}${a.status === 'interrupted' ? ` (continue with the same flags and --resume ${out})` : ''}`);
      io.out(`${a.name}: ${a.status}, ${a.iterations} iterations, final ${pct(a.finalTestAccuracy)}, best ${pct(a.bestTestAccuracy)} at ${a.bestTestIter ?? 'n/a'}, ${pct(r.target)} reached at ${a.itersToTarget ?? 'never'}; ${a.runDir}`);
    }
    if (json) io.json(compareDoc(r));
    const bad = [r.clr, r.baseline].find((a) => a.status !== 'completed');
    return bad ? exitCodeOf(bad.status) : 0;
  },
};
export default command;
