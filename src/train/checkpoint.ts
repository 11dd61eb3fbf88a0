/**
 * Checkpoints: `checkpoints/iter-<n>.safetensors` holds the model's state_dict under PyTorch names
 * with the model and data configuration in its metadata (so eval and interpolation need only the
 * file); `iter-<n>.state.safetensors` beside it holds the optimizer state, the data position and
 * the metrics offset, for an exact resume. The state file is written first: a checkpoint counts
 * once its model file exists.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LosstopoError } from '../errors.js';
import { Tensor, type Module, type Optimizer } from '../engine/index.js';
import type { LoaderState, ResolvedDataConfig } from '../data/index.js';
import type { ModelConfig } from '../models/registry.js';
import { readSafetensors, toTensors, writeSafetensors } from './safetensors.js';

export const checkpointFormat = 'losstopo-checkpoint-1';

export interface CheckpointMeta {
  iter: number;
  model: ModelConfig;
  data: ResolvedDataConfig;
}

export interface TrainingState {
  iter: number;
  loader: LoaderState;
  metricsOffset: number;
  optimizerSteps: number;
}

export const checkpointFile = (dir: string, iter: number): string => join(dir, `iter-${iter}.safetensors`);
const stateFile = (dir: string, iter: number): string => join(dir, `iter-${iter}.state.safetensors`);

export function saveCheckpoint(dir: string, meta: CheckpointMeta, model: Module, opt?: { optimizer: Optimizer; paramNames: string[]; state: TrainingState }): string {
  if (opt) {
    const s = opt.optimizer.state();
    const named: [string, Tensor][] = [];
    s.slots.forEach((slots, i) => slots.forEach((t, k) => named.push([`${opt.paramNames[i]}.${s.slotNames[k]}`, t])));
    try {
      writeSafetensors(stateFile(dir, meta.iter), named, {
        format: checkpointFormat, kind: 'training-state', training: JSON.stringify({ ...opt.state, optimizerSteps: s.steps }),
        slotNames: JSON.stringify(s.slotNames),
      });
    } finally {
      for (const [, t] of named) t.dispose();
    }
  }
  const file = checkpointFile(dir, meta.iter);
  writeSafetensors(file, model.stateDict(), {
    format: checkpointFormat, iter: String(meta.iter), model: JSON.stringify(meta.model), data: JSON.stringify(meta.data),
  });
  return file;
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  /** Model state under PyTorch names; the caller owns the tensors. */
  state: Map<string, Tensor>;
}

export function loadCheckpoint(file: string): LoadedCheckpoint {
  const f = readSafetensors(file);
  const m = f.metadata;
  if (m.format !== checkpointFormat || !m.model)
    throw new LosstopoError({ code: 'invalid_file', file }, `not a losstopo checkpoint (its metadata has no model configuration; format ${JSON.stringify(m.format ?? null)})`);
  const meta: CheckpointMeta = { iter: Number(m.iter), model: JSON.parse(m.model) as ModelConfig, data: JSON.parse(m.data ?? '{}') as ResolvedDataConfig };
  return { meta, state: toTensors(f) };
}

/** Restores optimizer slots (in the optimizer's parameter order) and returns the training state. */
export function loadTrainingState(dir: string, iter: number, optimizer: Optimizer, paramNames: string[]): TrainingState {
  const file = stateFile(dir, iter);
  const f = readSafetensors(file);
  const slotNames = JSON.parse(f.metadata.slotNames ?? '[]') as string[];
  const training = JSON.parse(f.metadata.training ?? 'null') as TrainingState | null;
  if (!training) throw new LosstopoError({ code: 'invalid_file', file }, 'has no training state in its metadata');
  const tensors = toTensors(f);
  try {
    const slots = paramNames.map((name) => {
      const list = slotNames.map((s) => tensors.get(`${name}.${s}`));
      if (list.every((t) => t === undefined)) return [];
      if (list.some((t) => t === undefined)) throw new LosstopoError({ code: 'invalid_file', file, path: name }, 'optimizer state is incomplete for this parameter');
      return list as Tensor[];
    });
    optimizer.loadState({ steps: training.optimizerSteps, slots });
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  return training;
}

/** Iterations of the complete checkpoints in a folder (model file and, when asked, state file), ascending. */
export function listCheckpoints(dir: string, withState = false): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^iter-(\d+)\.safetensors$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .filter((n) => !withState || existsSync(stateFile(dir, n)))
    .sort((a, b) => a - b);
}
