/**
 * Augmentation and normalisation, as plain data plus one fast fill loop.
 *
 * Presets (`augmentation` in a data config):
 *   caffe     mirror with p=0.5, subtract the training MEAN IMAGE (per pixel), raw 0-255 scale —
 *             the authors' Caffe transform_param (mirror: true, mean_file), scale 1.
 *   standard  pad 4 pixels of zeros, random 32x32 crop, mirror, then per-channel normalisation
 *             (x - mean_c) / std_c to about unit scale (the usual PyTorch CIFAR recipe).
 *   none      no augmentation, per-channel normalisation only.
 * An object `{preset?, mirror?, pad?, normalize?}` starts from a preset (default 'none') and overrides
 * fields, e.g. `{preset: 'caffe', mirror: false}` is mean-image subtraction without mirror. Unknown
 * names and keys are errors.
 *
 * Order of operations for one image: pad with raw zeros -> crop (offsets dx, dy in 0..2*pad) ->
 * mirror -> normalise. Normalisation statistics are indexed at the SOURCE pixel, as Caffe does (it
 * subtracts data_mean at the un-mirrored index), so mirroring a mean-subtracted image is exact; a
 * padded pixel (outside the source) becomes `(0 - channelMean_c) * scale_c`.
 * Evaluation uses the same normalisation as training and never augments (`makeTransform(..., false)`).
 */
import { LosstopoError, expected } from '../errors.js';
import { closest } from '../cli/options.js';
import { STREAM, hash32, mix32 } from './prng.js';
import type { SplitStats } from './stats.js';

export type Normalization = 'mean-image' | 'per-channel' | 'none';
export const NORMALIZATIONS: readonly Normalization[] = ['mean-image', 'per-channel', 'none'];
export type AugmentationName = 'caffe' | 'standard' | 'none';
export const AUGMENTATION_NAMES: readonly AugmentationName[] = ['caffe', 'standard', 'none'];

/** A resolved augmentation: what is done to a training image. */
export interface Augmentation {
  /** Random horizontal mirror with probability 1/2. */
  readonly mirror: boolean;
  /** Zero padding on each side before a random crop back to the original size (0: no crop). */
  readonly pad: number;
  readonly normalize: Normalization;
}

export const AUGMENTATIONS: Readonly<Record<AugmentationName, Augmentation>> = Object.freeze({
  caffe: Object.freeze({ mirror: true, pad: 0, normalize: 'mean-image' as const }),
  standard: Object.freeze({ mirror: true, pad: 4, normalize: 'per-channel' as const }),
  none: Object.freeze({ mirror: false, pad: 0, normalize: 'per-channel' as const }),
});

export type AugmentationInput = AugmentationName | { preset?: AugmentationName; mirror?: boolean; pad?: number; normalize?: Normalization };

const OBJECT_KEYS = ['preset', 'mirror', 'pad', 'normalize'];

function unknownName(path: string, raw: unknown, choices: readonly string[]): LosstopoError {
  const hint = typeof raw === 'string' ? closest(raw, choices) : undefined;
  const e = expected(path, `one of ${choices.join('|')}`, raw, 'invalid_config');
  return hint ? new LosstopoError(e.info, `${e.message}; did you mean ${JSON.stringify(hint)}?`) : e;
}

/** Resolves a preset name or an override object; throws on unknown names, keys and bad values. */
export function resolveAugmentation(input: unknown, path = 'augmentation'): Augmentation {
  if (typeof input === 'string') {
    if (!(AUGMENTATION_NAMES as readonly string[]).includes(input)) throw unknownName(path, input, AUGMENTATION_NAMES);
    return AUGMENTATIONS[input as AugmentationName];
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw expected(path, `a preset name (${AUGMENTATION_NAMES.join('|')}) or an object {preset, mirror, pad, normalize}`, JSON.stringify(input) ?? String(input), 'invalid_config');
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!OBJECT_KEYS.includes(key)) {
      const hint = closest(key, OBJECT_KEYS);
      throw new LosstopoError({ code: 'invalid_config', path: `${path}.${key}`, expected: OBJECT_KEYS.join('|'), received: key },
        `unknown augmentation key; expected one of ${OBJECT_KEYS.join(', ')}${hint ? `; did you mean ${JSON.stringify(hint)}?` : ''}`);
    }
  }
  if (o.preset !== undefined && typeof o.preset !== 'string') throw expected(`${path}.preset`, `one of ${AUGMENTATION_NAMES.join('|')}`, o.preset, 'invalid_config');
  const base = o.preset === undefined ? AUGMENTATIONS.none : resolveAugmentation(o.preset, `${path}.preset`);
  const mirror = o.mirror ?? base.mirror;
  if (typeof mirror !== 'boolean') throw expected(`${path}.mirror`, 'true or false', mirror, 'invalid_config');
  const pad = o.pad ?? base.pad;
  if (typeof pad !== 'number' || !Number.isInteger(pad) || pad < 0 || pad > 64) throw expected(`${path}.pad`, 'an integer 0..64', pad, 'invalid_config');
  const normalize = o.normalize ?? base.normalize;
  if (typeof normalize !== 'string' || !(NORMALIZATIONS as readonly string[]).includes(normalize)) throw unknownName(`${path}.normalize`, normalize, NORMALIZATIONS);
  return Object.freeze({ mirror, pad, normalize: normalize as Normalization });
}

/**
 * Everything the fill loop needs, as plain typed arrays (structured-cloneable, so it can be posted
 * to a worker thread). output = (pixel[s] - sub[s]) * mul[s] at source index s; padValue[c] where
 * the crop falls outside the image.
 */
export interface Transform {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly mirror: boolean;
  readonly pad: number;
  readonly sub: Float32Array;
  readonly mul: Float32Array;
  readonly padValue: Float32Array;
}

export interface Geometry { channels: number; height: number; width: number }

/** The transform for training (`train` true: with the augmentation) or evaluation (never augments). */
export function makeTransform(aug: Augmentation, stats: Pick<SplitStats, 'channelMean' | 'channelStd' | 'meanImage'>, g: Geometry, train: boolean): Transform {
  const plane = g.height * g.width;
  const size = g.channels * plane;
  if (stats.meanImage.length !== size || stats.channelMean.length !== g.channels) {
    throw new LosstopoError({ code: 'data_error', path: 'stats' }, `statistics do not match the images: expected ${g.channels}x${g.height}x${g.width}`);
  }
  const sub = new Float32Array(size);
  const mul = new Float32Array(size).fill(1);
  const padValue = new Float32Array(g.channels);
  for (let c = 0; c < g.channels; c++) {
    const mean = stats.channelMean[c]!;
    const std = stats.channelStd[c]!;
    const scale = aug.normalize === 'per-channel' && std > 0 ? 1 / std : 1;
    if (aug.normalize === 'per-channel') { sub.fill(mean, c * plane, (c + 1) * plane); mul.fill(scale, c * plane, (c + 1) * plane); }
    if (aug.normalize === 'mean-image') sub.set(stats.meanImage.subarray(c * plane, (c + 1) * plane), c * plane);
    padValue[c] = aug.normalize === 'none' ? 0 : (0 - mean) * scale;
  }
  return { ...g, mirror: train && aug.mirror, pad: train ? aug.pad : 0, sub, mul, padValue };
}

/** Per-epoch key for the per-image random decisions. */
export const augmentKey = (seed: number, epoch: number): number => hash32(seed, epoch, STREAM.augment);

export interface ImageAug { mirror: boolean; dx: number; dy: number }

/** The random decisions for image `index` under `key`: mirror, and crop offsets dx, dy in 0..2*pad. */
export function imageAugmentation(key: number, index: number, t: Pick<Transform, 'mirror' | 'pad'>): ImageAug {
  const h1 = mix32((key + Math.imul(index + 1, 0x9e3779b9)) >>> 0);
  const h2 = mix32(h1 ^ 0x5bd1e995);
  const span = 2 * t.pad + 1;
  return { mirror: t.mirror && (h1 & 1) === 1, dx: t.pad ? (h2 & 0xffff) % span : 0, dy: t.pad ? (h2 >>> 16) % span : 0 };
}

/**
 * Writes image `index` of `images` (transformed) into `out` at image slot `slot` (NCHW). `key` is
 * `augmentKey(seed, epoch)`, ignored when the transform neither mirrors nor pads. No allocation.
 */
export function fillImage(out: Float32Array, slot: number, images: Uint8Array, index: number, t: Transform, key: number): void {
  const W = t.width; const H = t.height; const plane = H * W; const size = t.channels * plane;
  const src = index * size; const dst = slot * size;
  const { sub, mul } = t;
  if (!t.mirror && t.pad === 0) {
    for (let k = 0; k < size; k++) out[dst + k] = (images[src + k]! - sub[k]!) * mul[k]!;
    return;
  }
  const a = imageAugmentation(key, index, t);
  const P = t.pad;
  const ox = a.dx - P; const oy = a.dy - P; // source = output + offset
  const x0 = Math.max(0, -ox); const x1 = Math.min(W, W - ox); // output x with a source pixel
  for (let c = 0; c < t.channels; c++) {
    const pv = t.padValue[c]!;
    for (let y = 0; y < H; y++) {
      const o = dst + c * plane + y * W;
      const sy = y + oy;
      if (sy < 0 || sy >= H || x0 >= x1) { out.fill(pv, o, o + W); continue; }
      const s = c * plane + sy * W + ox; // stat index of output x is s + x
      const p = src + s;
      if (!a.mirror) {
        for (let x = 0; x < x0; x++) out[o + x] = pv;
        for (let x = x0; x < x1; x++) out[o + x] = (images[p + x]! - sub[s + x]!) * mul[s + x]!;
        for (let x = x1; x < W; x++) out[o + x] = pv;
      } else {
        const m = o + W - 1; // output x lands at W-1-x
        for (let x = 0; x < x0; x++) out[m - x] = pv;
        for (let x = x0; x < x1; x++) out[m - x] = (images[p + x]! - sub[s + x]!) * mul[s + x]!;
        for (let x = x1; x < W; x++) out[m - x] = pv;
      }
    }
  }
}
