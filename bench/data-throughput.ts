/**
 * Augmented images/s of the batch loader on one core (this thread), per augmentation preset.
 * Uses CIFAR-10 from ../shared/data (or --data-dir DIR) when present, else 10,000 random 32x32x3
 * images, so it runs anywhere. Target: 20,000+ images/s for every preset.
 *
 *   npx tsx bench/data-throughput.ts [--data-dir DIR] [--batch 128] [--seconds 2] [--json]
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AUGMENTATION_NAMES, computeStats, makeBatchSpec, makeTransform, readCifar, resolveAugmentation, fillBatch, nextState, sharedBytes } from '../src/data/index.js';
import type { ImageSet, LoaderState } from '../src/data/index.js';
import { splitmix32 } from '../src/data/prng.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const dataDir = arg('data-dir', fileURLToPath(new URL('../../shared/data', import.meta.url)));
const batch = Number(arg('batch', '128'));
const seconds = Number(arg('seconds', '2'));
const json = process.argv.includes('--json');

function randomSet(n: number): ImageSet {
  const images = sharedBytes(n * 3072);
  const rng = splitmix32(1);
  for (let i = 0; i < images.length; i += 4) { const r = rng(); images[i] = r; images[i + 1] = r >>> 8; images[i + 2] = r >>> 16; images[i + 3] = r >>> 24; }
  const labels = new Uint8Array(n).map((_, i) => i % 10);
  const sourceIndex = Int32Array.from({ length: n }, (_, i) => i);
  return { dataset: 'cifar10', split: 'train', count: n, channels: 3, height: 32, width: 32, images, labels, classes: 'abcdefghij'.split(''), sourceIndex };
}

const source = existsSync(`${dataDir}/cifar-10-batches-bin`) ? `CIFAR-10 train (${dataDir})` : '10,000 random images';
const train = existsSync(`${dataDir}/cifar-10-batches-bin`) ? (await readCifar('cifar10', dataDir)).train : randomSet(10_000);
const stats = computeStats(train);
const results: Record<string, number> = {};
for (const name of AUGMENTATION_NAMES) {
  const t = makeTransform(resolveAugmentation(name), stats, train, true);
  const spec = makeBatchSpec(train, t, { batchSize: batch, seed: 1, train: true });
  const x = new Float32Array(batch * 3072); const y = new Int32Array(batch);
  let state: LoaderState = { epoch: 0, position: 0 };
  for (let i = 0; i < 20; i++) { fillBatch(spec, state, x, y); state = nextState(spec, state); } // warm-up
  let images = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    images += fillBatch(spec, state, x, y);
    state = nextState(spec, state);
  }
  results[name] = Math.round(images / ((performance.now() - t0) / 1000));
}
if (json) process.stdout.write(JSON.stringify({ source, batch, imagesPerSec: results }) + '\n');
else {
  process.stdout.write(`data loader throughput, one core, batch ${batch}, ${source}\n`);
  for (const [k, v] of Object.entries(results)) process.stdout.write(`  ${k.padEnd(9)} ${v.toLocaleString('en-US')} images/s\n`);
}
