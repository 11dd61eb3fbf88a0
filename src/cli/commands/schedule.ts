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
  plot: { type: 'string', description: 'write an SVG plot (needs the report module; not available yet)' },
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
    if (values.plot !== undefined) {
      throw new LosstopoError({ code: 'invalid_option', path: '--plot', received: values.plot },
        'plotting needs the report module, which is not available yet; use --json and plot the points elsewhere');
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
