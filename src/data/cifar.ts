/**
 * Readers for the official CIFAR-10 and CIFAR-100 *binary* layouts, as the archives extract:
 *
 *   DATA_DIR/cifar-10-batches-bin/  data_batch_1.bin .. data_batch_5.bin, test_batch.bin, batches.meta.txt
 *     record = 1 label byte + 3072 pixel bytes (1024 red, 1024 green, 1024 blue; row-major 32x32)
 *   DATA_DIR/cifar-100-binary/      train.bin, test.bin, coarse_label_names.txt, fine_label_names.txt
 *     record = 1 coarse label byte + 1 fine label byte + 3072 pixel bytes
 *
 * Pixels are copied byte for byte (CHW per image, as in the file); every bad input is a one-line
 * LosstopoError naming the file.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LosstopoError } from '../errors.js';
import type { ImageSet, SplitName } from './types.js';
import { sharedBytes } from './types.js';

export type CifarName = 'cifar10' | 'cifar100';
export type CifarLabel = 'fine' | 'coarse';
export const PIXELS = 3072;

export interface CifarLayout {
  readonly dataset: CifarName;
  /** Folder the official archive extracts to, inside dataDir. */
  readonly folder: string;
  readonly train: readonly string[];
  readonly test: readonly string[];
  /** Label bytes before the pixels of a record. */
  readonly labelBytes: 1 | 2;
  readonly recordSize: number;
  /** Class-name files by label kind. */
  readonly names: Readonly<Partial<Record<CifarLabel, string>>>;
  readonly numClasses: Readonly<Partial<Record<CifarLabel, number>>>;
  /** The official archive. */
  readonly archive: { readonly url: string; readonly file: string; readonly md5: string };
}

export const CIFAR10: CifarLayout = {
  dataset: 'cifar10',
  folder: 'cifar-10-batches-bin',
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
  labelBytes: 1,
  recordSize: 1 + PIXELS,
  names: { fine: 'batches.meta.txt' },
  numClasses: { fine: 10 },
  archive: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    file: 'cifar-10-binary.tar.gz',
    md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  },
};

export const CIFAR100: CifarLayout = {
  dataset: 'cifar100',
  folder: 'cifar-100-binary',
  train: ['train.bin'],
  test: ['test.bin'],
  labelBytes: 2,
  recordSize: 2 + PIXELS,
  names: { coarse: 'coarse_label_names.txt', fine: 'fine_label_names.txt' },
  numClasses: { coarse: 20, fine: 100 },
  archive: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    file: 'cifar-100-binary.tar.gz',
    md5: '03b5dce01913d631647c71ecec9e9cb8',
  },
};

export const cifarLayout = (name: CifarName): CifarLayout => (name === 'cifar10' ? CIFAR10 : CIFAR100);

export interface CifarReadOptions {
  /** CIFAR-100 only: which label byte to use (default 'fine'). CIFAR-10 has only 'fine'. */
  label?: CifarLabel;
}

function missing(file: string, what: string): LosstopoError {
  return new LosstopoError({ code: 'missing_file', file }, what);
}
function invalid(file: string, what: string, expectedText?: string, received?: string): LosstopoError {
  return new LosstopoError({ code: 'invalid_file', file, expected: expectedText, received }, what);
}

async function isDir(path: string): Promise<boolean> {
  try { return (await stat(path)).isDirectory(); } catch { return false; }
}

/** The layout's folder inside dataDir, checked to exist. */
export async function cifarFolder(layout: CifarLayout, dataDir: string): Promise<string> {
  if (!(await isDir(dataDir))) {
    throw missing(dataDir, `data folder not found; expected a folder holding ${layout.folder}/ (fetch it with \`losstopo data fetch --dataset ${layout.dataset} --data-dir ${dataDir}\`)`);
  }
  const dir = join(dataDir, layout.folder);
  if (!(await isDir(dir))) {
    throw missing(dir, `folder not found; expected the extracted official ${layout.dataset} binary archive here (fetch it with \`losstopo data fetch --dataset ${layout.dataset} --data-dir ${dataDir}\`)`);
  }
  return dir;
}

/** Class names: one a line, blank lines ignored; exactly `n` of them. */
export async function readClassNames(file: string, n: number): Promise<string[]> {
  let text: string;
  try { text = await readFile(file, 'utf8'); } catch { throw missing(file, 'class-name file not found'); }
  const names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== '');
  if (names.length !== n) throw invalid(file, `expected ${n} class names (one a line), received ${names.length}`, `${n} names`, String(names.length));
  return names;
}

function resolveLabel(layout: CifarLayout, opts: CifarReadOptions): CifarLabel {
  const label = opts.label ?? 'fine';
  if (label !== 'fine' && label !== 'coarse') {
    throw new LosstopoError({ code: 'invalid_config', path: 'label', expected: 'fine|coarse', received: String(label) }, `expected fine|coarse, received ${JSON.stringify(label)}`);
  }
  if (layout.names[label] === undefined) {
    throw new LosstopoError({ code: 'invalid_config', path: 'label', expected: 'fine', received: label }, `${layout.dataset} has only one label per image; expected "fine", received ${JSON.stringify(label)}`);
  }
  return label;
}

/** Checks each file of a split exists and holds whole records; returns their record counts. */
async function recordCounts(layout: CifarLayout, dir: string, files: readonly string[]): Promise<number[]> {
  const counts: number[] = [];
  for (const f of files) {
    const path = join(dir, f);
    let size: number;
    try {
      const s = await stat(path);
      if (!s.isFile()) throw new Error('not a file');
      size = s.size;
    } catch {
      throw missing(path, `file not found; the official ${layout.dataset} binary layout has ${[...layout.train, ...layout.test].join(', ')}`);
    }
    if (size === 0) throw invalid(path, 'file is empty', `a multiple of ${layout.recordSize} bytes`, '0 bytes');
    if (size % layout.recordSize !== 0) {
      const other = layout.recordSize === CIFAR10.recordSize ? CIFAR100 : CIFAR10;
      const hint = size % other.recordSize === 0 ? ` (it is a multiple of ${other.recordSize}: ${other.dataset} records?)` : ' (truncated or not a CIFAR binary file?)';
      throw invalid(path, `size ${size} bytes is not a multiple of the ${layout.recordSize}-byte ${layout.dataset} record${hint}`,
        `a multiple of ${layout.recordSize} bytes`, `${size} bytes`);
    }
    counts.push(size / layout.recordSize);
  }
  return counts;
}

/** Reads one split (several files concatenated in the given order). */
async function readSplit(layout: CifarLayout, dir: string, files: readonly string[], split: SplitName, label: CifarLabel,
  classes: readonly string[]): Promise<ImageSet> {
  const counts = await recordCounts(layout, dir, files);
  const total = counts.reduce((a, b) => a + b, 0);
  const images = sharedBytes(total * PIXELS);
  const labels = new Uint8Array(total);
  const labelAt = layout.labelBytes === 2 && label === 'fine' ? 1 : 0;
  const k = classes.length;
  const rs = layout.recordSize;
  let n = 0;
  for (let f = 0; f < files.length; f++) {
    const path = join(dir, files[f]!);
    const buf = await readFile(path);
    if (buf.length !== counts[f]! * rs) throw invalid(path, 'file changed while being read');
    for (let r = 0, off = 0; r < counts[f]!; r++, off += rs, n++) {
      const y = buf[off + labelAt]!;
      if (y >= k) {
        const which = layout.labelBytes === 2 ? `${label} label` : 'label';
        throw invalid(path, `record ${r} (byte ${off + labelAt}): ${which} ${y} out of range, expected 0..${k - 1}`, `0..${k - 1}`, String(y));
      }
      if (layout.labelBytes === 2) {
        // Check the other label byte too: a valid CIFAR-100 record has both in range.
        const o = buf[off + 1 - labelAt]!;
        const ko = layout.numClasses[label === 'fine' ? 'coarse' : 'fine']!;
        if (o >= ko) throw invalid(path, `record ${r} (byte ${off + 1 - labelAt}): ${label === 'fine' ? 'coarse' : 'fine'} label ${o} out of range, expected 0..${ko - 1}`, `0..${ko - 1}`, String(o));
      }
      labels[n] = y;
      images.set(buf.subarray(off + layout.labelBytes, off + rs), n * PIXELS);
    }
  }
  const sourceIndex = new Int32Array(total);
  for (let i = 0; i < total; i++) sourceIndex[i] = i;
  return { dataset: layout.dataset, split, count: total, channels: 3, height: 32, width: 32, images, labels, classes, sourceIndex };
}

export interface CifarData {
  readonly train: ImageSet;
  readonly test: ImageSet;
  readonly classes: readonly string[];
}

/** Reads CIFAR-10 or CIFAR-100 (binary layout) from the folder holding the extracted archive. */
export async function readCifar(name: CifarName, dataDir: string, opts: CifarReadOptions = {}): Promise<CifarData> {
  const layout = cifarLayout(name);
  const label = resolveLabel(layout, opts);
  const dir = await cifarFolder(layout, dataDir);
  // Check every data file's size before reading any, so a bad file is reported quickly.
  await recordCounts(layout, dir, [...layout.train, ...layout.test]);
  const classes = await readClassNames(join(dir, layout.names[label]!), layout.numClasses[label]!);
  const train = await readSplit(layout, dir, layout.train, 'train', label, classes);
  const test = await readSplit(layout, dir, layout.test, 'test', label, classes);
  return { train, test, classes };
}

/** Record counts of an extracted folder from the file sizes alone (no labels checked). */
export async function countRecords(name: CifarName, folder: string): Promise<{ train: number; test: number }> {
  const layout = cifarLayout(name);
  const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
  return { train: sum(await recordCounts(layout, folder, layout.train)), test: sum(await recordCounts(layout, folder, layout.test)) };
}

/** Checks an extracted folder (used by fetch before it is moved into place): sizes, labels, names. */
export async function verifyCifarFolder(name: CifarName, folder: string): Promise<{ train: number; test: number }> {
  const layout = cifarLayout(name);
  const labels = Object.keys(layout.names) as CifarLabel[];
  let train = 0; let test = 0;
  for (const label of labels) {
    const classes = await readClassNames(join(folder, layout.names[label]!), layout.numClasses[label]!);
    if (label !== labels[0]) continue; // one pass over the pixels checks both label bytes
    train = (await readSplit(layout, folder, layout.train, 'train', label, classes)).count;
    test = (await readSplit(layout, folder, layout.test, 'test', label, classes)).count;
  }
  return { train, test };
}
