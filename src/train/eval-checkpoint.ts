/** Evaluates a checkpoint file alone: its metadata names the model and the data it was trained on. */
import { setThreads, type Module } from '../engine/index.js';
import { evalLoader, makeBatchSpec, prepareData, subsetTest, BatchLoader, resolveDataConfig, type PreparedData } from '../data/index.js';
import { buildModel } from '../models/registry.js';
import { loadCheckpoint } from './checkpoint.js';
import { evaluate, type EvalResult } from './evaluate.js';

export interface EvalCheckpointOptions {
  /** Overrides of the data configuration stored in the checkpoint (dataset, dataDir, testSize...). */
  data?: Record<string, unknown>;
  split: 'test' | 'train';
  /** Evaluate only the first N class-balanced images of the split. */
  size?: number;
  batch?: number;
  threads?: number;
}

/** A model with a checkpoint's weights (the caller disposes it). */
export function modelFromCheckpoint(file: string): { model: Module; meta: ReturnType<typeof loadCheckpoint>['meta'] } {
  const ck = loadCheckpoint(file);
  const model = buildModel(ck.meta.model, 0);
  model.loadStateDict(ck.state);
  for (const t of ck.state.values()) t.dispose();
  return { model, meta: ck.meta };
}

/** Data prepared as the checkpoint's run prepared it (same subset and normalisation), with overrides. */
export async function dataForCheckpoint(meta: ReturnType<typeof loadCheckpoint>['meta'], overrides: Record<string, unknown> = {}): Promise<PreparedData> {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return prepareData(resolveDataConfig({ ...meta.data, ...defined }));
}

export function splitLoader(data: PreparedData, split: 'test' | 'train', size: number | undefined, batch: number): BatchLoader {
  if (size === undefined) return evalLoader(data, split, { batchSize: batch, labelType: 'int64' });
  const set = subsetTest(data[split], Math.min(size, data[split].count));
  return new BatchLoader(makeBatchSpec(set, data.transforms.eval, { batchSize: batch, train: false, labelType: 'int64' }));
}

export async function evalCheckpoint(file: string, o: EvalCheckpointOptions): Promise<EvalResult> {
  if (o.threads) setThreads(o.threads);
  const { model, meta } = modelFromCheckpoint(file);
  try {
    const data = await dataForCheckpoint(meta, o.data);
    return evaluate(model, splitLoader(data, o.split, o.size, o.batch ?? 500), data.train);
  } finally {
    model.dispose();
  }
}
