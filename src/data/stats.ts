/**
 * Statistics of a split over raw 0-255 pixel values: class counts, per-channel mean and standard
 * deviation (population, over every pixel of the channel) and the mean image (per pixel, CHW).
 * Computed exactly from integer sums, so they do not depend on summation order.
 */
import type { ImageSet } from './types.js';
import { imageSize } from './types.js';

export interface SplitStats {
  readonly count: number;
  readonly perClass: number[];
  /** Mean per channel, raw 0-255 scale (R, G, B for CIFAR; one value for MNIST). */
  readonly channelMean: number[];
  /** Population standard deviation per channel, raw 0-255 scale. */
  readonly channelStd: number[];
  /** Mean image (C*H*W, CHW), raw 0-255 scale: what Caffe's compute_image_mean writes. */
  readonly meanImage: Float32Array;
}

export function classCounts(set: Pick<ImageSet, 'labels' | 'classes'>): number[] {
  const counts = new Array<number>(set.classes.length).fill(0);
  for (let i = 0; i < set.labels.length; i++) counts[set.labels[i]!]!++;
  return counts;
}

export function computeStats(set: ImageSet): SplitStats {
  const size = imageSize(set);
  const plane = set.height * set.width;
  const C = set.channels;
  const n = set.count;
  const img = set.images;
  // Per-pixel sums fit uint32 while n*255 < 2^32 (16 million images).
  const sums: Uint32Array | Float64Array = n * 255 < 2 ** 32 ? new Uint32Array(size) : new Float64Array(size);
  const hist = new Float64Array(C * 256);
  for (let i = 0, base = 0; i < n; i++, base += size) {
    for (let c = 0; c < C; c++) {
      const h0 = c * 256;
      for (let k = c * plane, e = k + plane; k < e; k++) {
        const v = img[base + k]!;
        sums[k] += v;
        hist[h0 + v]++;
      }
    }
  }
  const channelMean: number[] = []; const channelStd: number[] = [];
  for (let c = 0; c < C; c++) {
    let s = 0; let q = 0; let m = 0;
    for (let v = 0; v < 256; v++) { const h = hist[c * 256 + v]!; m += h; s += h * v; q += h * v * v; }
    const mean = m > 0 ? s / m : 0;
    channelMean.push(mean);
    channelStd.push(m > 0 ? Math.sqrt(Math.max(0, q / m - mean * mean)) : 0);
  }
  const meanImage = new Float32Array(size);
  if (n > 0) for (let k = 0; k < size; k++) meanImage[k] = sums[k]! / n;
  return { count: n, perClass: classCounts(set), channelMean, channelStd, meanImage };
}
