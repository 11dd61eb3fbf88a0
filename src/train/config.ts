/**
 * The resolved configuration of a training run: everything that determines it besides the data
 * files. It is what run.json records and what `--config FILE` (YAML or JSON) holds; unknown keys
 * are errors that name them. Defaults follow the authors' Caffe setup where the paper has one.
 */
import { z } from 'zod';
import { LosstopoError } from '../errors.js';
import { closest } from '../cli/options.js';
import { resolveSchedule, type ScheduleConfig } from '../schedules/index.js';
import { resolveDataConfig, type ResolvedDataConfig } from '../data/index.js';
import { resolveModel, type ModelConfig } from '../models/registry.js';
import { optimizerKinds } from '../engine/optim.js';

export const trainDefaults = Object.freeze({
  model: 'resnet20',
  shortcut: 'avgpool' as const, // the authors' Caffe ResNets
  init: 'msra' as const,
  widthMult: 1,
  dataset: 'cifar10' as const,
  batch: 128,
  optimizer: 'sgd' as const,
  /** Used when the schedule does not set momentum. */
  momentum: 0.9,
  weightDecay: 1e-4,
  momentumForm: 'caffe' as const,
  /** Caffe nets of the authors: biases at 2x LR and no weight decay. */
  biasLrMult: 2,
  biasDecayMult: 0,
  /** Caffe clip_gradients; 0 is off. */
  clipGradients: 0,
  maxIter: 1000,
  /** Iterations between test evaluations (0: only at the end). */
  testInterval: 100,
  /** Images of a fixed training subset evaluated alongside the test split (0: none). */
  testTrainSize: 0,
  display: 20,
  /** Iterations between checkpoints (0: only at the end). */
  snapshot: 0,
  seed: 1,
  threads: 2,
  /** A training loss above this (or NaN/inf) ends the run as diverged. */
  divergeLoss: 100,
  evalBatch: 500,
});

const schema = z.strictObject({
  name: z.string().min(1).optional(),
  model: z.string(),
  shortcut: z.enum(['avgpool', 'subsample', 'projection']),
  init: z.enum(['msra', 'pytorch']),
  widthMult: z.number().positive(),
  dataset: z.enum(['cifar10', 'cifar100', 'mnist']),
  dataDir: z.string().optional(),
  label: z.enum(['fine', 'coarse']).optional(),
  pad32: z.boolean().optional(),
  augment: z.union([z.enum(['caffe', 'standard', 'none']), z.record(z.string(), z.unknown())]).optional(),
  trainSize: z.number().int().positive().optional(),
  valSize: z.number().int().nonnegative().optional(),
  testSize: z.number().int().positive().optional(),
  batch: z.number().int().positive(),
  optimizer: z.enum(optimizerKinds as unknown as [string, ...string[]]),
  momentum: z.number().min(0).max(1),
  weightDecay: z.number().nonnegative(),
  momentumForm: z.enum(['caffe', 'pytorch']),
  biasLrMult: z.number().nonnegative(),
  biasDecayMult: z.number().nonnegative(),
  clipGradients: z.number().nonnegative(),
  schedule: z.record(z.string(), z.unknown()),
  maxIter: z.number().int().positive(),
  testInterval: z.number().int().nonnegative(),
  testTrainSize: z.number().int().nonnegative(),
  display: z.number().int().positive(),
  snapshot: z.number().int().nonnegative(),
  seed: z.number().int().nonnegative().max(2 ** 32 - 1),
  threads: z.number().int().positive(),
  divergeLoss: z.number().positive(),
  evalBatch: z.number().int().positive(),
});

type Parsed = z.infer<typeof schema>;
export interface TrainConfig extends Omit<Parsed, 'schedule' | 'optimizer'> {
  optimizer: (typeof optimizerKinds)[number];
  schedule: ScheduleConfig;
}

export const trainKeys = Object.keys(schema.shape);

/**
 * Validates a partial configuration (file, flags, or both merged), fills the defaults and resolves
 * the schedule. `source` names where it came from in messages (a file path, or "options").
 */
export function resolveTrainConfig(raw: Record<string, unknown>, source?: string): TrainConfig {
  for (const key of Object.keys(raw)) {
    if (!trainKeys.includes(key)) {
      const hint = closest(key, trainKeys);
      throw new LosstopoError({ code: 'invalid_config', path: key, ...(source ? { file: source } : {}) },
        `unknown configuration key${hint ? `; did you mean ${JSON.stringify(hint)}?` : ''}`);
    }
  }
  const merged: Record<string, unknown> = { ...trainDefaults, ...Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) };
  if (merged.schedule === undefined) merged.schedule = { policy: 'fixed', baseLr: 0.1 };
  const r = schema.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.join('.');
    const value = issue.path.reduce<unknown>((o, k) => (o as Record<string | number, unknown> | undefined)?.[k as string], merged);
    throw new LosstopoError({ code: 'invalid_config', path, received: JSON.stringify(value), ...(source ? { file: source } : {}) },
      `${issue.message.replace(/^Invalid input: /, '')}, received ${JSON.stringify(value)}`);
  }
  const c = r.data;
  const { policy, ...opts } = c.schedule as { policy?: string } & Record<string, unknown>;
  const schedule = resolveSchedule(policy ?? '', opts, (k) => `schedule.${k}`);
  const cfg = { ...c, schedule } as TrainConfig;
  // Resolve the parts owned by other modules now, so a bad run fails before anything is written.
  modelConfigOf(cfg);
  dataConfigOf(cfg);
  return cfg;
}

export function modelConfigOf(c: TrainConfig, classes?: number, inChannels?: number): ModelConfig {
  return resolveModel(c.model, {
    shortcut: c.shortcut, init: c.init, widthMult: c.widthMult,
    classes: classes ?? (c.dataset === 'cifar100' ? (c.label === 'coarse' ? 20 : 100) : 10),
    inChannels: inChannels ?? (c.dataset === 'mnist' ? 1 : 3),
  });
}

export function dataConfigOf(c: TrainConfig): ResolvedDataConfig {
  return resolveDataConfig({
    dataset: c.dataset, seed: c.seed,
    ...(c.dataDir !== undefined ? { dataDir: c.dataDir } : {}),
    ...(c.label !== undefined ? { label: c.label } : {}),
    ...(c.pad32 !== undefined ? { pad32: c.pad32 } : c.dataset === 'mnist' ? { pad32: true } : {}),
    ...(c.augment !== undefined ? { augmentation: c.augment } : {}),
    ...(c.trainSize !== undefined ? { trainSize: c.trainSize } : {}),
    ...(c.valSize !== undefined ? { valSize: c.valSize } : {}),
    ...(c.testSize !== undefined ? { testSize: c.testSize } : {}),
  });
}
