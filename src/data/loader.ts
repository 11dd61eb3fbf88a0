/**
 * Batches, in an order that is a pure function of (seed, epoch), with a resumable state.
 *
 * Training (`train: true`): each epoch visits a fresh permutation of the split drawn from
 * hash(seed, epoch); batches are consecutive slices of it; the last partial batch is DROPPED
 * (drop_last), so every batch has exactly `batchSize` images and each image appears at most once
 * per epoch (exactly once when batchSize divides the split). Images are augmented with per-image
 * decisions drawn from hash(seed, epoch, image).
 * Evaluation (`train: false`): file order, every image, the last batch may be smaller, no augmentation.
 * (Caffe's data layer instead reads its LMDB in one fixed order and wraps around epoch boundaries.)
 *
 * State `{epoch, position}` (position = index into the epoch's order of the next batch's first image)
 * is all a resumed run needs: `fillBatch(spec, state, x, y)` is pure, allocates nothing but the
 * epoch's permutation (cached per spec), and can run in a worker_thread given the same `spec`.
 */
import { LosstopoError } from '../errors.js';
import type { Transform } from './augment.js';
import { augmentKey, fillImage } from './augment.js';
import { STREAM, hash32, permutation, splitmix32 } from './prng.js';
import type { ImageSet } from './types.js';

export interface LoaderState { epoch: number; position: number }

export type LabelType = 'int32' | 'int64';
export type Labels = Int32Array | BigInt64Array;

export interface Batch {
  /** n*C*H*W floats, NCHW. */
  x: Float32Array;
  /** n labels. */
  y: Labels;
  n: number;
  epoch: number;
  /** Batch index within the epoch (0-based). */
  index: number;
}

/** Everything needed to build any batch: plain data, structured-cloneable (worker-friendly). */
export interface BatchSpec {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly transform: Transform;
  readonly batchSize: number;
  readonly seed: number;
  /** true: shuffle per epoch, drop the last partial batch, augment. false: file order, all, no augmentation. */
  readonly train: boolean;
  readonly labelType: LabelType;
}

export interface LoaderOptions {
  batchSize: number;
  /** Run seed (uint32); ignored for evaluation. */
  seed?: number;
  train: boolean;
  labelType?: LabelType;
}

function bad(path: string, what: string, received: unknown): LosstopoError {
  return new LosstopoError({ code: 'invalid_config', path, expected: what, received: String(received) }, `expected ${what}, received ${String(received)}`);
}

export function checkSeed(seed: unknown, path = 'seed'): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw bad(path, 'an integer 0..4294967295', seed);
  return seed;
}

/** A batch spec for one split; the transform must be the training or evaluation one to match `train`. */
export function makeBatchSpec(set: ImageSet, transform: Transform, opts: LoaderOptions): BatchSpec {
  const { batchSize } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw bad('batchSize', 'a positive integer', batchSize);
  if (opts.train && batchSize > set.count) throw bad('batchSize', `at most the ${set.count} images of the ${set.split} split (the last partial batch is dropped in training)`, batchSize);
  if (transform.channels !== set.channels || transform.height !== set.height || transform.width !== set.width) {
    throw new LosstopoError({ code: 'data_error', path: 'transform' }, `transform is for ${transform.channels}x${transform.height}x${transform.width} images, the split holds ${set.channels}x${set.height}x${set.width}`);
  }
  const labelType = opts.labelType ?? 'int32';
  if (labelType !== 'int32' && labelType !== 'int64') throw bad('labelType', 'int32|int64', labelType);
  return {
    images: set.images, labels: set.labels, count: set.count, transform, batchSize,
    seed: opts.train ? checkSeed(opts.seed ?? 0) : 0, train: opts.train, labelType,
  };
}

export function batchesPerEpoch(spec: Pick<BatchSpec, 'count' | 'batchSize' | 'train'>): number {
  return spec.train ? Math.floor(spec.count / spec.batchSize) : Math.ceil(spec.count / spec.batchSize);
}

const orderCache = new WeakMap<object, { epoch: number; order: Int32Array }>();

/** The order in which epoch `epoch` visits the split (training: a permutation from seed+epoch). */
export function epochOrder(spec: BatchSpec, epoch: number): Int32Array {
  const hit = orderCache.get(spec);
  if (hit && hit.epoch === epoch) return hit.order;
  let order: Int32Array;
  if (spec.train) order = permutation(spec.count, splitmix32(hash32(spec.seed, epoch, STREAM.order)));
  else { order = new Int32Array(spec.count); for (let i = 0; i < spec.count; i++) order[i] = i; }
  orderCache.set(spec, { epoch, order });
  return order;
}

export function checkState(spec: BatchSpec, state: LoaderState): LoaderState {
  const { epoch, position } = state ?? ({} as LoaderState);
  if (!Number.isInteger(epoch) || epoch < 0) throw bad('state.epoch', 'a non-negative integer', epoch);
  const last = spec.train ? spec.count - spec.batchSize : spec.count - 1;
  if (!Number.isInteger(position) || position < 0 || position > last) throw bad('state.position', `an integer 0..${last}`, position);
  return { epoch, position };
}

/** Images in the batch that starts at `state`. */
export function batchLength(spec: BatchSpec, state: LoaderState): number {
  return Math.min(spec.batchSize, spec.count - state.position);
}

/** The state after the batch at `state`. */
export function nextState(spec: BatchSpec, state: LoaderState): LoaderState {
  const position = state.position + batchLength(spec, state);
  const end = spec.train ? position + spec.batchSize > spec.count : position >= spec.count;
  return end ? { epoch: state.epoch + 1, position: 0 } : { epoch: state.epoch, position };
}

/**
 * Fills `x` (at least n*C*H*W floats) and `y` (at least n labels) with the batch at `state`; returns n.
 * Pure: the result depends only on (spec, state).
 */
export function fillBatch(spec: BatchSpec, state: LoaderState, x: Float32Array, y: Labels): number {
  const t = spec.transform;
  const n = batchLength(spec, state);
  const size = t.channels * t.height * t.width;
  if (x.length < n * size || y.length < n) throw new LosstopoError({ code: 'data_error', path: 'batch' }, `output arrays too small for ${n} images`);
  const order = epochOrder(spec, state.epoch);
  const key = augmentKey(spec.seed, state.epoch);
  const labels = spec.labels;
  for (let j = 0; j < n; j++) {
    const i = order[state.position + j]!;
    fillImage(x, j, spec.images, i, t, key);
    if (y instanceof BigInt64Array) y[j] = BigInt(labels[i]!);
    else y[j] = labels[i]!;
  }
  return n;
}

/** The batch at `state`, in freshly allocated arrays. */
export function batchAt(spec: BatchSpec, state: LoaderState): Batch {
  const s = checkState(spec, state);
  const n = batchLength(spec, s);
  const t = spec.transform;
  const x = new Float32Array(n * t.channels * t.height * t.width);
  const y = spec.labelType === 'int64' ? new BigInt64Array(n) : new Int32Array(n);
  fillBatch(spec, s, x, y);
  return { x, y, n, epoch: s.epoch, index: Math.floor(s.position / spec.batchSize) };
}

/**
 * A cursor over a BatchSpec. `next()` returns the batch at the current state and advances (training
 * streams run on across epochs); iterating yields the rest of the current epoch.
 */
export class BatchLoader implements Iterable<Batch> {
  private current: LoaderState;
  constructor(readonly spec: BatchSpec, state: LoaderState = { epoch: 0, position: 0 }) {
    this.current = checkState(spec, state);
  }
  /** A copy of the state to save with a checkpoint; `new BatchLoader(spec, state)` resumes there. */
  get state(): LoaderState { return { ...this.current }; }
  get batchesPerEpoch(): number { return batchesPerEpoch(this.spec); }
  next(): Batch {
    const b = batchAt(this.spec, this.current);
    this.current = nextState(this.spec, this.current);
    return b;
  }
  *[Symbol.iterator](): Generator<Batch> {
    const epoch = this.current.epoch;
    while (this.current.epoch === epoch) yield this.next();
  }
}
