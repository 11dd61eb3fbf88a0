/** The in-memory form every dataset reader returns and every loader consumes. */

export type DatasetName = 'cifar10' | 'cifar100' | 'mnist';
export const DATASETS: readonly DatasetName[] = ['cifar10', 'cifar100', 'mnist'];
export type SplitName = 'train' | 'val' | 'test';

/**
 * One split of a dataset: `count` images stored as raw uint8 pixels, channel-major per image (CHW,
 * as the CIFAR files store them), images one after another: pixel (c, y, x) of image i is
 * `images[i*C*H*W + c*H*W + y*W + x]`. The pixel buffer is backed by a SharedArrayBuffer when it was
 * built by a reader, so it can be handed to a worker thread without copying.
 */
export interface ImageSet {
  readonly dataset: DatasetName;
  readonly split: SplitName;
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly images: Uint8Array;
  /** Class index per image, 0 <= label < classes.length. */
  readonly labels: Uint8Array;
  readonly classes: readonly string[];
  /** Index of each image in the split it was read from (identity for a full split). */
  readonly sourceIndex: Int32Array;
}

export const imageSize = (s: Pick<ImageSet, 'channels' | 'height' | 'width'>): number => s.channels * s.height * s.width;

/** Allocates a uint8 buffer backed by a SharedArrayBuffer (shareable with worker threads). */
export function sharedBytes(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(n));
}

/** A new ImageSet holding the images at `idx` (in that order), copied. */
export function selectImages(set: ImageSet, idx: ArrayLike<number>, split: SplitName = set.split): ImageSet {
  const size = imageSize(set);
  const images = sharedBytes(idx.length * size);
  const labels = new Uint8Array(idx.length);
  const sourceIndex = new Int32Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    images.set(set.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = set.labels[i]!;
    sourceIndex[k] = set.sourceIndex[i]!;
  }
  return { ...set, split, count: idx.length, images, labels, sourceIndex };
}
