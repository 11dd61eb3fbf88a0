/** `losstopo reproduce fig1a|...|all --scale paper|cpu`: the paper's figures, then a report of them. */
import { existsSync, statSync } from 'node:fs';
import { LosstopoError } from '../../errors.js';
import { figureIds, plan, scales, type FigureId } from '../../reproduce/presets.js';
import { describePlan, reproduce } from '../../reproduce/run.js';
import type { Command } from '../command.js';
import { closest, helpText, parseOptions, type OptTable } from '../options.js';

const options = {
  scale: { type: 'enum', choices: scales, default: 'cpu', description: 'paper: the authors\' settings; cpu: scaled to ~2 h on 2 cores; demo: MNIST, minutes' },
  dataDir: { type: 'string', description: 'folder holding cifar-10-batches-bin/ (required for paper and cpu scales)' },
  out: { type: 'string', default: 'runs/reproduce', description: 'output folder (steps already completed there are skipped)' },
  caffeLogDir: { type: 'string', description: 'folder of the authors\' Caffe logs: each figure overlays those whose axes match (e.g. ../shared/reference/caffe-logs)' },
  caffeLog: { type: 'strings', description: 'more Caffe logs to overlay in every figure\'s report (comma-separated)' },
  threads: { type: 'int', min: 1, description: 'CPU threads per run (default: the scale\'s, 2)' },
  dryRun: { type: 'boolean', default: false, description: 'print the steps (iterations, images, done or not) and run nothing' },
  quiet: { type: 'boolean', default: false, description: 'no progress bars' },
} satisfies OptTable;

const command: Command = {
  summary: 'reproduce the paper\'s figures (fig1a fig1b fig2a fig2b fig3a fig3b, or all) and report them',
  async run(argv, io) {
    const { values: o, positionals, help, json } = parseOptions('reproduce', options, argv);
    if (help) { io.out(helpText('reproduce', this.summary, options, '<fig1a|fig1b|fig2a|fig2b|fig3a|fig3b|all>...')); return 0; }
    if (!positionals.length) throw new LosstopoError({ code: 'invalid_option', path: 'FIGURE' }, `expected one or more of ${figureIds.join(', ')} or all`);
    const figs: FigureId[] = [];
    for (const p of positionals) {
      if (p === 'all') figs.push(...figureIds);
      else if ((figureIds as readonly string[]).includes(p)) figs.push(p as FigureId);
      else {
        const hint = closest(p, [...figureIds, 'all']);
        throw new LosstopoError({ code: 'invalid_option', path: 'FIGURE', received: p }, `unknown figure ${JSON.stringify(p)}${hint ? `; did you mean ${hint}?` : ''}`);
      }
    }
    if (o.scale !== 'demo' && !o.dataDir) throw new LosstopoError({ code: 'invalid_option', path: '--data-dir' }, `is required for --scale ${o.scale} (CIFAR-10; fetch it with \`losstopo data fetch --dataset cifar10 --data-dir DIR\`)`);
    if (o.caffeLogDir && !(existsSync(o.caffeLogDir) && statSync(o.caffeLogDir).isDirectory())) throw new LosstopoError({ code: 'invalid_option', path: '--caffe-log-dir', received: o.caffeLogDir }, `${o.caffeLogDir} is not a folder`);
    const plans = plan(o.scale, [...new Set(figs)], o.dataDir, o.threads);
    if (o.dryRun) {
      const rows = describePlan(plans, o.out);
      if (json) { io.json({ out: o.out, steps: rows }); return 0; }
      const w = Math.max(...rows.map((r) => r.dir.length));
      for (const r of rows) io.out(`${r.figure}  ${r.dir.padEnd(w)}  ${r.kind.padEnd(11)} ${String(r.iterations).padStart(7)} ${r.kind === 'interpolate' ? 'points' : 'its   '} ${String(r.images).padStart(10)} images  ${r.state}`);
      const left = rows.filter((r) => r.state !== 'done' && r.kind !== 'interpolate').reduce((a, r) => a + r.images, 0);
      io.out(`training images still to process: ${left} (divide by this machine's training img/s from \`losstopo bench\` for a time; evaluations and interpolations add ~10%)`);
      return 0;
    }
    const r = await reproduce(plans, { out: o.out, quiet: o.quiet, log: (l) => io.err(l), ...(o.caffeLog ? { caffeLogs: o.caffeLog } : {}), ...(o.caffeLogDir ? { caffeLogDir: o.caffeLogDir } : {}) });
    if (json) io.json({ out: o.out, index: r.index, figures: plans.map((p) => ({ id: p.id, title: p.title, expect: p.expect, report: r.reports[p.id] })) });
    else io.out(r.index);
    return 0;
  },
};
export default command;
