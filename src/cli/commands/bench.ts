/** `losstopo bench`: engine throughput (train and infer images/s) on synthetic CIFAR-sized batches. */
import { runBench } from '../../bench/throughput.js';
import { shortcuts } from '../../models/resnet.js';
import type { Command } from '../command.js';
import { helpText, parseOptions, type OptTable } from '../options.js';
import { Progress } from '../../util/progress.js';

const options = {
  model: { type: 'string', default: 'resnet20', description: 'model (resnet<depth>)' },
  shortcut: { type: 'enum', choices: shortcuts, default: 'projection', description: 'downsampling shortcut' },
  batch: { type: 'int', min: 1, default: 128, description: 'batch size' },
  threads: { type: 'int', min: 1, default: 2, description: 'libtorch intra-op threads' },
  iters: { type: 'int', min: 1, default: 20, description: 'timed iterations per phase' },
  warmup: { type: 'int', min: 0, default: 3, description: 'untimed warm-up iterations per phase' },
  memoryFormat: { type: 'enum', choices: ['channels_last', 'contiguous'] as const, default: 'channels_last', description: 'activation and weight layout' },
} satisfies OptTable;

const command: Command = {
  summary: 'measure training and inference images/s of a model (compare with bench/pytorch_peer.py)',
  async run(argv, io) {
    const { values: o, help, json } = parseOptions('bench', options, argv);
    if (help) { io.out(helpText('bench', this.summary, options)); return 0; }
    let bar: Progress | undefined;
    let phase = '';
    const r = runBench(o, (p, done, total) => {
      if (p !== phase) { bar?.finish(); phase = p; bar = new Progress({ label: `bench ${p}`, total, unit: 'batch' }); }
      bar!.update(done);
    });
    bar?.finish();
    if (json) io.json(r);
    else io.out(`${r.model} (${r.shortcut}, ${r.memoryFormat}) batch ${r.batch}, ${r.threads} threads: train ${r.trainImagesPerSec} img/s, infer ${r.inferImagesPerSec} img/s`);
    return 0;
  },
};
export default command;
