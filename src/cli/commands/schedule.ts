/**
 * `losstopo schedule --policy P [options] --iters SPEC [--json]`: evaluates a schedule at the
 * given iterations. JSON: {"policy":P,"points":[{"iter","lr","momentum"}]} (momentum null where
 * the policy does not set it); otherwise a table.
 */
import { LosstopoError, expected } from '../../errors.js';
import type { Command } from '../command.js';
import { helpText, parseOptions } from '../options.js';
import { makeSchedule, policies, policyNames } from '../../schedules/registry.js';
import { parseIterSpec, pickScheduleOptions, scheduleOptions } from '../../schedules/options.js';

const table = {
  ...scheduleOptions,
  iters: { type: 'string', description: 'iterations to evaluate: 0,100,5000 or start:stop:step (stop included)', required: true },
  plot: { type: 'string', description: 'also write the LR (and momentum) schedule as an SVG figure to this file' },
} as const;

const summary = 'evaluate an LR/momentum schedule (Caffe, CLR, PyTorch, fastai policies) at chosen iterations';

export interface SchedulePointOut { iter: number; lr: number; momentum: number | null }

const fmt = (v: number | null): string => (v === null ? '-' : Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v));

const command: Command = {
  summary,
  async run(argv, io) {
    const { values, help, json } = parseOptions('schedule', table, argv);
    if (help) {
      const lines = [helpText('schedule', summary, table, '--policy P [options] --iters SPEC [--json]'), '', 'Policies:'];
      for (const name of policyNames) lines.push(`  ${name.padEnd(14)} ${policies[name].summary}`);
      io.out(lines.join('\n'));
      return 0;
    }
    if (values.policy === undefined) {
      throw expected('--policy', `a policy (one of ${policyNames.join('|')})`, 'nothing', 'invalid_option');
    }
    const iters = parseIterSpec(values.iters);
    const schedule = makeSchedule(values.policy, pickScheduleOptions(values as Record<string, unknown>));
    let points: SchedulePointOut[];
    try {
      points = iters.map((iter) => ({ iter, ...schedule(iter) }));
    } catch (e) {
      // A schedule undefined past its end (one_cycle after total_steps) names the iteration.
      if (e instanceof LosstopoError && e.info.path === 'iter') {
        throw new LosstopoError({ ...e.info, path: '--iters' }, e.message.replace('total_steps', '--total-steps'));
      }
      throw e;
    }
    if (values.plot !== undefined) await plotSchedule(values.plot, values.policy, points);
    if (json) {
      io.json({ policy: values.policy, points });
      return 0;
    }
    const rows = [['iter', 'lr', 'momentum'], ...points.map((p) => [String(p.iter), fmt(p.lr), fmt(p.momentum)])];
    const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    io.out(`policy ${values.policy}`);
    for (const r of rows) io.out(r.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
    return 0;
  },
};
export default command;

/** The schedule as the report's LR figure, written atomically as SVG. */
async function plotSchedule(file: string, policy: string, points: SchedulePointOut[]): Promise<void> {
  if (!file.endsWith('.svg')) throw new LosstopoError({ code: 'invalid_option', path: '--plot', received: file }, 'expected a file name ending in .svg');
  const { lrScheduleFigure, renderSvg, colorAt } = await import('../../report/index.js');
  const { writeFileAtomic } = await import('../../train/atomic.js');
  const train = points.map((p) => ({ iter: p.iter, lr: p.lr, momentum: p.momentum, trainLoss: Number.NaN }));
  const fig = lrScheduleFigure([{ label: policy, color: colorAt(0), source: 'losstopo', kind: 'train', train, evals: [] }]);
  if (!fig) throw new LosstopoError({ code: 'invalid_option', path: '--iters' }, 'no finite LR to plot');
  writeFileAtomic(file, await renderSvg(fig.spec));
}
