/**
 * `losstopo probe`: curvature probes at a checkpoint (issue 6, beyond the paper).
 *   probe hessian  top Hessian eigenvalue of the training loss by power iteration (and along the
 *                  line to a second checkpoint with --along)
 *   probe slice    1-D / 2-D filter-normalised random-direction slices of loss and accuracy
 * Each writes run.json (kind 'probe') and curvature.json into --out. Exit codes: 0 done, 2 bad input.
 */
import { LosstopoError } from '../../errors.js';
import type { ResolvedDataConfig } from '../../data/index.js';
import { alphaGrid, parseAlphas } from '../../experiments/interpolation.js';
import { curvatureDefaults as d, runHessianProbe, runSliceProbe } from '../../experiments/curvature.js';
import { Progress } from '../../util/progress.js';
import type { Command } from '../command.js';
import { helpText, parseOptions, type OptTable } from '../options.js';

const fmt = (g: { start: number; stop: number; step: number }): string => `${g.start}:${g.stop}:${g.step}`;

const common = {
  checkpoint: { type: 'string', required: true, description: 'the checkpoint probed (a .safetensors file of a run)' },
  seed: { type: 'int', min: 0, default: d.seed, description: 'seed of the random start / directions' },
  dataset: { type: 'enum', choices: ['cifar10', 'cifar100', 'mnist'] as const, description: "dataset (default: the checkpoint's)" },
  dataDir: { type: 'string', description: "folder holding the extracted dataset (default: the checkpoint's)" },
  threads: { type: 'int', min: 1, default: d.threads, description: 'libtorch threads' },
  out: { type: 'string', description: 'folder to create (default runs/probe-<kind>-<timestamp>)' },
  quiet: { type: 'boolean', default: false, description: 'no progress bar' },
} satisfies OptTable;

export const hessianOptions = {
  ...common,
  batches: { type: 'int', min: 1, default: d.batches, description: 'fixed training batches of the loss (first class-balanced images, no augmentation)' },
  batch: { type: 'int', min: 1, default: d.batch, description: 'images per batch' },
  iters: { type: 'int', min: 1, default: d.iters, description: 'power iterations (Hessian-vector products) at most' },
  tol: { type: 'number', min: 0, default: d.tol, description: 'stop when the eigenvalue estimate changes by less than this, relative' },
  along: { type: 'string', description: 'also measure along the line from --checkpoint to this checkpoint' },
  alphas: { type: 'string', description: `alpha grid of --along: start:stop:step or a comma list (default ${fmt(d.alphas)})` },
} satisfies OptTable;

export const sliceOptions = {
  ...common,
  dims: { type: 'enum', choices: ['1', '2'] as const, default: '1', description: 'random directions: 1 (a curve) or 2 (a surface)' },
  range: { type: 'string', default: fmt(d.range), description: 'steps along each direction, start:stop:step or a comma list' },
  trainSize: { type: 'int', min: 1, default: d.trainSize, description: 'fixed class-balanced training subset evaluated at each point' },
  testSize: { type: 'int', min: 1, description: `fixed class-balanced test subset (default: the checkpoint's, at most ${d.testSize})` },
  evalBatch: { type: 'int', min: 1, default: d.evalBatch, description: 'evaluation batch size' },
} satisfies OptTable;

const usage = 'hessian|slice --checkpoint FILE [options]';
const stamp = (): string => new Date().toISOString().replace(/[:.]/g, '-');

const command: Command = {
  summary: 'curvature at a checkpoint: top Hessian eigenvalue (hessian) or filter-normalised random slices (slice)',
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (!sub || sub === '--help' || sub === '-h') {
      io.out(helpText('probe', this.summary, hessianOptions, usage));
      io.out('');
      io.out(helpText('probe slice', 'filter-normalised 1-D/2-D random-direction slices of loss and accuracy', sliceOptions, '--checkpoint FILE [options]'));
      return sub ? 0 : 2;
    }
    if (sub !== 'hessian' && sub !== 'slice')
      throw new LosstopoError({ code: 'invalid_option', path: sub, expected: 'hessian|slice' }, 'unknown probe; expected `losstopo probe hessian ...` or `losstopo probe slice ...`');

    if (sub === 'hessian') {
      const { values: v, help, json } = parseOptions('probe hessian', hessianOptions, rest);
      if (help) { io.out(helpText('probe hessian', 'top Hessian eigenvalue of the training loss (power iteration, eval-mode BN)', hessianOptions, '--checkpoint FILE [options]')); return 0; }
      if (v.alphas && !v.along) throw new LosstopoError({ code: 'invalid_option', path: '--alphas' }, 'needs --along TO_CHECKPOINT');
      const alphas = v.along ? (v.alphas ? parseAlphas(v.alphas) : alphaGrid(d.alphas)) : [];
      const total = v.iters * (1 + alphas.length);
      const bar = new Progress({ label: 'probe hessian', total, unit: 'Hv', quiet: v.quiet });
      let done = 0;
      const r = await runHessianProbe({
        checkpoint: v.checkpoint, batches: v.batches, batch: v.batch, iters: v.iters, tol: v.tol, seed: v.seed, threads: v.threads, data: dataOverrides(v),
        ...(v.along ? { along: v.along, alphas } : {}),
      }, {
        out: v.out ?? `runs/probe-hessian-${stamp()}`,
        onIter: (k, lambda) => bar.update(++done, `lambda ${lambda.toPrecision(5)} (iter ${k})`),
        // An early stop skips power iterations: move the bar to the next point's start.
        onPoint: (p) => { done = Math.max(done, v.iters * (1 + alphas.indexOf(p.alpha) + 1)); bar.update(done, `alpha ${p.alpha}: lambda ${p.eigenvalue.toPrecision(5)}`); },
      });
      bar.finish(`lambda ${r.eigenvalue.toPrecision(5)}`);
      if (json) io.json({ kind: r.kind, checkpoint: r.checkpoint, eigenvalue: r.eigenvalue, iterations: r.iterations, converged: r.converged, history: r.history, images: r.images, batches: r.batches, batch: r.batch, seed: r.seed, along: r.along, outDir: r.outDir });
      else {
        io.out(`top Hessian eigenvalue ${r.eigenvalue.toPrecision(6)} (${r.iterations} iterations, ${r.converged ? 'converged' : 'not converged'}; ${r.images} training images)`);
        for (const p of r.along?.points ?? []) io.out(`  alpha ${p.alpha}: ${p.eigenvalue.toPrecision(6)}${p.converged ? '' : ' (not converged)'}`);
        io.out(`${r.outDir}/curvature.json`);
      }
      return 0;
    }

    const { values: v, help, json } = parseOptions('probe slice', sliceOptions, rest);
    if (help) { io.out(helpText('probe slice', 'filter-normalised 1-D/2-D random-direction slices of loss and accuracy', sliceOptions, '--checkpoint FILE [options]')); return 0; }
    const range = parseAlphas(v.range, '--range');
    const dims = v.dims === '2' ? 2 : 1;
    const bar = new Progress({ label: `probe slice ${dims}-D`, total: dims === 2 ? range.length ** 2 : range.length, unit: 'pt', quiet: v.quiet });
    const r = await runSliceProbe({
      checkpoint: v.checkpoint, dims, range, seed: v.seed, trainSize: v.trainSize, evalBatch: v.evalBatch, threads: v.threads, data: dataOverrides(v),
      ...(v.testSize ? { testSize: v.testSize } : {}),
    }, {
      out: v.out ?? `runs/probe-slice-${stamp()}`,
      onPoint: (p, done) => { if (p.split === 'test') bar.update(done, `${p.s !== undefined ? `s ${p.s} ` : ''}t ${p.t}: test loss ${p.loss.toFixed(4)}`); },
    });
    bar.finish();
    if (json) io.json({ kind: r.kind, checkpoint: r.checkpoint, seed: r.seed, range: r.range, trainSize: r.trainSize, testSize: r.testSize, flatness: r.flatness, points: r.points, outDir: r.outDir });
    else {
      if (r.flatness) for (const s of ['train', 'test'] as const) io.out(`${s}: flat width ${r.flatness[s].width.toFixed(3)}${r.flatness[s].bounded ? '' : ' (reaches the grid end)'}`);
      io.out(`${r.points.length / 2} points; ${r.outDir}/curvature.json`);
    }
    return 0;
  },
};

function dataOverrides(v: { dataset?: ResolvedDataConfig['dataset'] | undefined; dataDir?: string | undefined }): Partial<ResolvedDataConfig> {
  return { ...(v.dataset ? { dataset: v.dataset } : {}), ...(v.dataDir ? { dataDir: v.dataDir } : {}) };
}

export default command;
