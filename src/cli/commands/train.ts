/**
 * `losstopo train`: one training run into a run folder. Configuration from, in increasing
 * priority: defaults, `--solver solver.prototxt` (the authors' files run as they are), `--config
 * FILE` (YAML or JSON), then flags. Exit codes: 0 completed, 2 bad input, 3 diverged,
 * 130 interrupted (resumable with --resume).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { LosstopoError } from '../../errors.js';
import { readSolver } from '../../caffe/index.js';
import { isPolicy, pickScheduleOptions, policies, scheduleOptions } from '../../schedules/index.js';
import { resolveTrainConfig, trainDefaults, type TrainConfig } from '../../train/config.js';
import { train, type TrainResult } from '../../train/trainer.js';
import { progressHook } from '../../train/progress-hook.js';
import { RunStore } from '../../train/runstore.js';
import type { Command } from '../command.js';
import { helpText, parseOptions, type OptTable } from '../options.js';

const d = trainDefaults;
export const trainOptions = {
  model: { type: 'string', description: `network: resnet<depth> (default ${d.model})` },
  shortcut: { type: 'enum', choices: ['avgpool', 'subsample', 'projection'] as const, description: `downsampling shortcut (default ${d.shortcut}: the authors' Caffe nets)` },
  init: { type: 'enum', choices: ['msra', 'pytorch'] as const, description: `weight init (default ${d.init})` },
  widthMult: { type: 'number', description: 'width multiplier of the 16-channel base (default 1)' },
  dataset: { type: 'enum', choices: ['cifar10', 'cifar100', 'mnist'] as const, description: `dataset (default ${d.dataset})` },
  dataDir: { type: 'string', description: 'folder holding the extracted dataset folder (CIFAR)' },
  label: { type: 'enum', choices: ['fine', 'coarse'] as const, description: 'CIFAR-100 label set (default fine)' },
  trainSize: { type: 'int', min: 1, description: 'class-balanced training subset (default: all)' },
  valSize: { type: 'int', min: 0, description: 'held-out validation images from the training set (default 0)' },
  testSize: { type: 'int', min: 1, description: 'fixed class-balanced test subset (default: all)' },
  augment: { type: 'enum', choices: ['caffe', 'standard', 'none'] as const, description: 'augmentation (default caffe for CIFAR, none for MNIST)' },
  batch: { type: 'int', min: 1, description: `batch size (default ${d.batch})` },
  optimizer: { type: 'enum', choices: ['sgd', 'nesterov', 'adam', 'adagrad', 'adadelta'] as const, description: `optimizer (default ${d.optimizer})` },
  weightDecay: { type: 'number', min: 0, description: `weight decay (default ${d.weightDecay})` },
  momentumForm: { type: 'enum', choices: ['caffe', 'pytorch'] as const, description: `SGD momentum form (default ${d.momentumForm})` },
  biasLrMult: { type: 'number', min: 0, description: `LR multiplier of biases (default ${d.biasLrMult}, Caffe lr_mult)` },
  biasDecayMult: { type: 'number', min: 0, description: `weight-decay multiplier of biases (default ${d.biasDecayMult})` },
  clipGradients: { type: 'number', min: 0, description: 'clip the global gradient norm (0: off)' },
  testInterval: { type: 'int', min: 0, description: `evaluate the test split every N iterations (default ${d.testInterval}; 0: at the end)` },
  testTrainSize: { type: 'int', min: 0, description: 'also evaluate a fixed training subset of N images (default 0)' },
  display: { type: 'int', min: 1, description: `iterations between progress lines when stderr is not a terminal (default ${d.display})` },
  snapshot: { type: 'int', min: 0, description: 'checkpoint every N iterations (default 0: only at the end)' },
  seed: { type: 'int', min: 0, description: `seed of initialisation and data order (default ${d.seed})` },
  threads: { type: 'int', min: 1, description: `libtorch threads (default ${d.threads})` },
  divergeLoss: { type: 'number', description: `a training loss above this ends the run as diverged (default ${d.divergeLoss})` },
  evalBatch: { type: 'int', min: 1, description: `evaluation batch size (default ${d.evalBatch})` },
  name: { type: 'string', description: 'a name for the run (figures label it so)' },
  ...scheduleOptions,
  config: { type: 'string', description: 'configuration file (YAML or JSON; keys as these options in camelCase, schedule as an object)' },
  solver: { type: 'string', description: "a Caffe solver.prototxt (the authors' files run as they are; flags override)" },
  out: { type: 'string', description: 'run folder to create (default runs/<timestamp>)' },
  resume: { type: 'string', description: 'continue the run in this folder from its latest checkpoint' },
  quiet: { type: 'boolean', default: false, description: 'no progress bar' },
} satisfies OptTable;

const solverOptimizer: Record<string, TrainConfig['optimizer'] | undefined> = { SGD: 'sgd', Nesterov: 'nesterov', Adam: 'adam', AdaGrad: 'adagrad', AdaDelta: 'adadelta' };

/** The partial configuration a Caffe solver file gives. */
export function configFromSolver(file: string): Record<string, unknown> {
  const r = readSolver(file);
  const s = r.settings;
  const optimizer = solverOptimizer[s.type];
  if (!optimizer) throw new LosstopoError({ code: 'invalid_config', file, path: 'type', received: s.type }, `solver type ${s.type} is not supported (sgd, nesterov, adam, adagrad, adadelta)`);
  const { momentum: _m, ...schedule } = r.schedule as unknown as Record<string, unknown>;
  return {
    schedule, optimizer, momentum: s.momentum, weightDecay: s.weightDecay,
    ...(s.maxIter ? { maxIter: s.maxIter } : {}),
    ...(s.clipGradients ? { clipGradients: s.clipGradients } : {}),
    testInterval: s.testInterval, display: Math.max(1, s.display || 1), snapshot: s.snapshot,
    ...(s.randomSeed !== null && s.randomSeed >= 0 ? { seed: s.randomSeed } : {}),
  };
}

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw new LosstopoError({ code: 'missing_file', file }, `cannot read the configuration: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let v: unknown;
  try { v = parseYaml(text); } catch (e) {
    const pos = (e as { linePos?: { line: number }[] }).linePos?.[0];
    throw new LosstopoError({ code: 'parse_error', file, ...(pos ? { line: pos.line } : {}) }, `not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new LosstopoError({ code: 'invalid_config', file }, 'expected a mapping of configuration keys');
  return v as Record<string, unknown>;
}

const trainKeysOfFlags = [...Object.keys(trainOptions).filter((k) => !(k in scheduleOptions) && !['config', 'solver', 'out', 'resume', 'quiet'].includes(k)), 'maxIter'];

/** `--max-iter` is both the run length and, for poly and range, the schedule's own max_iter (as in Caffe). */
function withScheduleMaxIter(schedule: Record<string, unknown>, maxIter: unknown): Record<string, unknown> {
  const policy = String(schedule.policy ?? '');
  const reads = isPolicy(policy) && policies[policy].keys.includes('maxIter');
  const { maxIter: own, ...rest } = schedule;
  return reads ? { ...rest, maxIter: own ?? maxIter ?? trainDefaults.maxIter } : rest;
}

/** Defaults < solver < config file < flags, resolved and checked. */
export function configFromFlags(values: Record<string, unknown>, given: Set<string>, base: Record<string, unknown> = {}): TrainConfig {
  let raw: Record<string, unknown> = { ...base };
  if (values.solver) raw = { ...raw, ...configFromSolver(values.solver as string) };
  if (values.config) {
    const file = readConfigFile(values.config as string);
    raw = { ...raw, ...file, ...(file.schedule ? { schedule: file.schedule } : {}) };
  }
  for (const k of trainKeysOfFlags) if (given.has(k)) raw[k] = values[k];
  const sched = pickScheduleOptions(values);
  delete sched.maxIter;
  if (values.policy !== undefined) raw.schedule = { policy: values.policy, ...sched };
  else if (Object.keys(sched).length) {
    if (!raw.schedule) throw new LosstopoError({ code: 'invalid_option', path: '--policy' }, 'is required with schedule options (e.g. --policy triangular --base-lr 0.1 --max-lr 1 --stepsize 5000)');
    raw.schedule = { ...(raw.schedule as object), ...sched };
  }
  if (raw.schedule) raw.schedule = withScheduleMaxIter(raw.schedule as Record<string, unknown>, raw.maxIter);
  return resolveTrainConfig(raw, values.config as string | undefined);
}

export function summaryDoc(r: TrainResult): Record<string, unknown> {
  return {
    status: r.status, iterations: r.iterations,
    finalTestLoss: r.finalTest?.loss ?? null, finalTestAccuracy: r.finalTest?.accuracy ?? null,
    bestTestLoss: r.bestTest?.loss ?? null, bestTestAccuracy: r.bestTest?.accuracy ?? null, bestTestIter: r.bestTest?.iter ?? null,
    runDir: r.runDir, ...(r.message ? { message: r.message } : {}),
  };
}

export const exitCodeOf = (status: TrainResult['status']): number => (status === 'completed' ? 0 : status === 'diverged' ? 3 : status === 'interrupted' ? 130 : 1);

const command: Command = {
  summary: 'train a network with any schedule into a run folder (resumable)',
  async run(argv, io) {
    const { values, given, help, json } = parseOptions('train', trainOptions, argv);
    if (help) { io.out(helpText('train', this.summary, trainOptions)); return 0; }
    let config: TrainConfig;
    if (values.resume) {
      const rec = RunStore.readRecord(values.resume);
      const overrides: Record<string, unknown> = {};
      for (const k of given) if (k !== 'resume' && k !== 'quiet') overrides[k] = (values as Record<string, unknown>)[k];
      const unsupported = Object.keys(overrides).filter((k) => k !== 'maxIter');
      if (unsupported.length) throw new LosstopoError({ code: 'invalid_option', path: `--${unsupported[0]}` }, 'cannot change with --resume (only --max-iter can: the rest is fixed by the run)');
      config = resolveTrainConfig({ ...(rec.config as Record<string, unknown>), ...overrides }, `${values.resume}/run.json`);
    } else {
      config = configFromFlags(values, given as Set<string>);
    }
    const out = values.resume ?? values.out ?? `runs/${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const r = await train(config, { out: values.resume ? undefined : out, resume: values.resume, hooks: [progressHook('train', values.quiet, config.display)], handleSignals: true });
    if (r.status !== 'completed') io.err(`losstopo train: run ${r.status}: ${r.message ?? ''} (metrics kept in ${r.runDir}${r.status === 'interrupted' ? `; continue with --resume ${r.runDir}` : ''})`);
    if (json) io.json(summaryDoc(r));
    else io.out(`${r.status}: ${r.iterations} iterations, final test accuracy ${r.finalTest ? (r.finalTest.accuracy * 100).toFixed(2) + '%' : 'n/a'}, best ${r.bestTest ? (r.bestTest.accuracy * 100).toFixed(2) + '% at ' + r.bestTest.iter : 'n/a'}; run folder ${r.runDir}`);
    return exitCodeOf(r.status);
  },
};
export default command;
