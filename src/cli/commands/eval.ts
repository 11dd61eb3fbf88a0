/** `losstopo eval --checkpoint FILE`: loss and accuracy of a checkpoint on a split. */
import { evalCheckpoint } from '../../train/eval-checkpoint.js';
import type { Command } from '../command.js';
import { helpText, parseOptions, type OptTable } from '../options.js';

const options = {
  checkpoint: { type: 'string', required: true, description: 'a checkpoints/iter-<n>.safetensors file' },
  dataset: { type: 'enum', choices: ['cifar10', 'cifar100', 'mnist'] as const, description: "dataset (default: the checkpoint's)" },
  dataDir: { type: 'string', description: "folder holding the extracted dataset (default: the checkpoint's)" },
  split: { type: 'enum', choices: ['test', 'train'] as const, default: 'test', description: 'split to evaluate' },
  testSize: { type: 'int', min: 1, description: 'evaluate the first N class-balanced images of the split (default: all)' },
  batch: { type: 'int', min: 1, default: 500, description: 'evaluation batch size' },
  threads: { type: 'int', min: 1, default: 2, description: 'libtorch threads' },
} satisfies OptTable;

const command: Command = {
  summary: 'evaluate a checkpoint (its metadata names model and data)',
  async run(argv, io) {
    const { values: o, help, json } = parseOptions('eval', options, argv);
    if (help) { io.out(helpText('eval', this.summary, options)); return 0; }
    const r = await evalCheckpoint(o.checkpoint, { data: { dataset: o.dataset, dataDir: o.dataDir }, split: o.split, size: o.testSize, batch: o.batch, threads: o.threads });
    if (json) io.json(r);
    else io.out(`${o.split}: loss ${r.loss.toFixed(4)}, accuracy ${(r.accuracy * 100).toFixed(2)}% over ${r.count} images`);
    return 0;
  },
};
export default command;
