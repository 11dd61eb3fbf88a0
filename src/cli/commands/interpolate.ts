/**
 * `losstopo interpolate`: linear interpolation between two checkpoints (Smith & Topin 2017 Fig. 3)
 * evaluated on training and test data at every alpha, into a folder (run.json kind
 * 'interpolation' + interpolation.jsonl); `--all-pairs RUN_DIR` fills a barrier matrix over every
 * pair of a run's checkpoints (all-pairs.json). Exit codes: 0 done, 2 bad input.
 */
import { LosstopoError } from '../../errors.js';
import type { ResolvedDataConfig } from '../../data/index.js';
import { alphaGrid, bnPolicies, interpolationDefaults as d, parseAlphas, runAllPairs, runInterpolation } from '../../experiments/interpolation.js';
import type { Command } from '../command.js';
import { helpText, parseOptions, type OptTable } from '../options.js';

const fmt = (g: { start: number; stop: number; step: number }): string => `${g.start}:${g.stop}:${g.step}`;

export const interpolateOptions = {
  from: { type: 'string', description: 'checkpoint A (alpha 0): a .safetensors file of a run' },
  to: { type: 'string', description: 'checkpoint B (alpha 1)' },
  allPairs: { type: 'string', description: "interpolate every pair of this run folder's checkpoints into a barrier matrix (all-pairs.json)" },
  alphas: { type: 'string', description: `alpha grid start:stop:step or a comma list (default ${fmt(d.alphas)}; with --all-pairs ${fmt(d.pairAlphas)})` },
  bn: { type: 'enum', choices: bnPolicies, description: `BatchNorm statistics: interpolate (Caffe, the paper) | recompute (re-estimated on training images at each alpha) | train (batch statistics) (default ${d.bn})` },
  dataset: { type: 'enum', choices: ['cifar10', 'cifar100', 'mnist'] as const, description: "dataset (default: the checkpoint's)" },
  dataDir: { type: 'string', description: "folder holding the extracted dataset (default: the checkpoint's)" },
  trainSize: { type: 'int', min: 1, description: `images of the fixed class-balanced training subset evaluated (and used by --bn recompute) (default ${d.trainSize})` },
  testSize: { type: 'int', min: 1, description: "fixed class-balanced test subset (default: the checkpoint's data configuration)" },
  evalBatch: { type: 'int', min: 1, description: `evaluation batch size (default ${d.evalBatch})` },
  flatEps: { type: 'number', min: 0, description: `loss above the minimum counted as flat for the flatness width (default ${d.flatEps})` },
  split: { type: 'enum', choices: ['train', 'test'] as const, description: `split of the --all-pairs barrier (default ${d.pairSplit})` },
  threads: { type: 'int', min: 1, description: `libtorch threads (default ${d.threads})` },
  out: { type: 'string', description: 'folder to create (default runs/interpolation-<timestamp>)' },
} satisfies OptTable;

const command: Command = {
  summary: 'interpolate between two checkpoints (or all pairs of a run) and measure barriers, flatness and minima',
  async run(argv, io) {
    const { values, help, json } = parseOptions('interpolate', interpolateOptions, argv);
    if (help) { io.out(helpText('interpolate', this.summary, interpolateOptions)); return 0; }
    const data: Partial<ResolvedDataConfig> = {
      ...(values.dataset ? { dataset: values.dataset } : {}), ...(values.dataDir ? { dataDir: values.dataDir } : {}),
      ...(values.testSize ? { testSize: values.testSize } : {}),
    };
    const common = {
      ...(values.bn ? { bn: values.bn } : {}), data,
      ...(values.trainSize ? { trainSize: values.trainSize } : {}), ...(values.evalBatch ? { evalBatch: values.evalBatch } : {}),
      ...(values.flatEps !== undefined ? { flatEps: values.flatEps } : {}), ...(values.threads ? { threads: values.threads } : {}),
    };
    const out = values.out ?? `runs/interpolation-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    if (values.allPairs) {
      if (values.from || values.to) throw new LosstopoError({ code: 'invalid_option', path: '--all-pairs' }, 'takes a run folder instead of --from/--to');
      const r = await runAllPairs({ ...common, runDir: values.allPairs, alphas: values.alphas ? parseAlphas(values.alphas) : alphaGrid(d.pairAlphas), ...(values.split ? { split: values.split } : {}) },
        { out, onPair: (i, j, b) => io.err(`pair ${i},${j}: barrier ${b.height.toFixed(4)} at alpha ${b.alpha}`) });
      if (json) io.json({ labels: r.labels, files: r.files, split: r.split, alphas: r.alphas, barrier: r.barrier, minAlpha: r.minAlpha, outDir: r.outDir });
      else io.out(`${r.labels.length} checkpoints, ${(r.labels.length * (r.labels.length - 1)) / 2} pairs; ${r.outDir}/all-pairs.json`);
      return 0;
    }
    if (!values.from || !values.to) throw new LosstopoError({ code: 'invalid_option', path: values.from ? '--to' : '--from' }, 'is required (or use --all-pairs RUN_DIR)');
    const r = await runInterpolation({ ...common, from: values.from, to: values.to, ...(values.alphas ? { alphas: parseAlphas(values.alphas) } : {}) },
      { out, onPoint: (p) => { if (p.split === 'test') io.err(`alpha ${p.alpha}: test loss ${p.loss.toFixed(4)} accuracy ${(p.accuracy * 100).toFixed(2)}%`); } });
    if (json) io.json({ from: r.from, to: r.to, bn: r.bn, outDir: r.outDir, derived: r.derived, points: r.points });
    else {
      for (const s of ['train', 'test'] as const) {
        const x = r.derived[s];
        io.out(`${s}: barrier ${x.barrier.height.toFixed(4)} at alpha ${x.barrier.alpha}, minimum ${x.minLoss.toFixed(4)} at alpha ${x.minAlpha}, flat width ${x.flatness.width.toFixed(3)}${x.flatness.bounded ? '' : ' (reaches the grid end)'}`);
      }
      io.out(`${r.outDir}/interpolation.jsonl`);
    }
    return 0;
  },
};
export default command;
