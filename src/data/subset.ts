/**
 * Class-balanced subsets.
 * - `trainSize`: drawn at random from the seed (the authors' 10k/20k/30k/40k-image runs).
 * - `testSize`: fixed, the first images of each class in file order, whatever the seed.
 * - `valSize`: held out of the training split at random from a FIXED stream (not the run's seed),
 *   so every seed is validated on the same images; the training subset is then drawn from the rest.
 * Balanced means an equal share per class; the remainder goes to the lowest class indices, and a
 * class with too few images gives all it has with the shortfall spread over the others.
 */
import { LosstopoError } from '../errors.js';
import { STREAM, hash32, shuffleInPlace, splitmix32 } from './prng.js';
import type { ImageSet } from './types.js';
import { selectImages } from './types.js';
import { classCounts } from './stats.js';

/** Images to take from each class so the total is `n`, as even as the availability allows. */
export function balancedQuota(available: readonly number[], n: number): number[] {
  const total = available.reduce((a, b) => a + b, 0);
  if (!Number.isInteger(n) || n < 0 || n > total) throw new RangeError(`cannot take ${n} of ${total} images`);
  const quota = new Array<number>(available.length).fill(0);
  let active = available.map((_, c) => c).filter((c) => available[c]! > 0);
  let remaining = n;
  for (;;) {
    if (active.length === 0 || remaining === 0) break;
    const share = Math.floor(remaining / active.length);
    const short = active.filter((c) => available[c]! <= share);
    if (short.length > 0) {
      for (const c of short) { quota[c] = available[c]!; remaining -= available[c]!; }
      active = active.filter((c) => available[c]! > share);
      continue;
    }
    const extra = remaining - share * active.length;
    active.forEach((c, i) => { quota[c] = share + (i < extra ? 1 : 0); });
    break;
  }
  return quota;
}

/**
 * Indices (ascending) of a class-balanced subset of `n` images among `candidates` (ascending indices
 * into `labels`). With `rng` each class's images are drawn at random; without, the first ones are taken.
 */
export function balancedPick(labels: Uint8Array, numClasses: number, candidates: Int32Array, n: number, rng?: () => number): Int32Array {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < candidates.length; i++) byClass[labels[candidates[i]!]!]!.push(candidates[i]!);
  const quota = balancedQuota(byClass.map((a) => a.length), n);
  const out = new Int32Array(n);
  let k = 0;
  for (let c = 0; c < numClasses; c++) {
    const list = byClass[c]!;
    if (rng) shuffleInPlace(list, rng);
    for (let j = 0; j < quota[c]!; j++) out[k++] = list[j]!;
  }
  return out.sort();
}

const all = (n: number): Int32Array => { const a = new Int32Array(n); for (let i = 0; i < n; i++) a[i] = i; return a; };

function sizeError(path: string, n: number, what: string, max: number): LosstopoError {
  return new LosstopoError({ code: 'invalid_config', path, expected: `an integer 1..${max}`, received: String(n) },
    `expected an integer 1..${max} (${what}), received ${n}`);
}

export interface TrainSplitOptions {
  /** Training images to keep (class-balanced, drawn from `seed`); default: all that remain. */
  trainSize?: number;
  /** Images held out of training for validation (class-balanced, fixed); default 0. */
  valSize?: number;
  seed: number;
}

/** Splits the official training set into the training subset and an optional validation split. */
export function splitTrain(train: ImageSet, opts: TrainSplitOptions): { train: ImageSet; val?: ImageSet } {
  const k = train.classes.length;
  const valSize = opts.valSize ?? 0;
  if (!Number.isInteger(valSize) || valSize < 0 || valSize >= train.count) throw sizeError('valSize', valSize, `fewer than the ${train.count} training images`, train.count - 1);
  let rest = all(train.count);
  let val: ImageSet | undefined;
  if (valSize > 0) {
    const valIdx = balancedPick(train.labels, k, rest, valSize, splitmix32(hash32(STREAM.val)));
    const taken = new Uint8Array(train.count);
    for (const i of valIdx) taken[i] = 1;
    rest = rest.filter((i) => !taken[i]);
    val = selectImages(train, valIdx, 'val');
  }
  let trainIdx = rest;
  if (opts.trainSize !== undefined) {
    const n = opts.trainSize;
    if (!Number.isInteger(n) || n < 1 || n > rest.length) throw sizeError('trainSize', n, `at most the ${rest.length} training images left after valSize`, rest.length);
    if (n < rest.length) trainIdx = balancedPick(train.labels, k, rest, n, splitmix32(hash32(opts.seed, STREAM.subset)));
  }
  const out = trainIdx.length === train.count ? train : selectImages(train, trainIdx, 'train');
  return val ? { train: out, val } : { train: out };
}

/** A fixed class-balanced test subset: the first images of each class in file order. */
export function subsetTest(test: ImageSet, testSize?: number): ImageSet {
  if (testSize === undefined || testSize === test.count) return test;
  if (!Number.isInteger(testSize) || testSize < 1 || testSize > test.count) throw sizeError('testSize', testSize, `at most the ${test.count} test images`, test.count);
  return selectImages(test, balancedPick(test.labels, test.classes.length, all(test.count), testSize));
}

export { classCounts };
