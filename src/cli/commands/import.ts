/**
 * `losstopo import caffe-log FILE [--json]`: a Caffe training log as
 * {"solver":{...},"train":[{"iter","loss","lr"}],"test":[{"iter","accuracy","loss"}]}.
 * `losstopo import caffe-solver FILE [--json]`: a solver.prototxt as the losstopo schedule config
 * and trainer settings it implies: {"solver","schedule","settings","issues"}.
 *
 * Issues that do not stop the import (unknown fields, a cut-off evaluation) go to stderr.
 * NaN / infinite values (diverged runs) are null in JSON.
 */
import { LosstopoError } from '../../errors.js';
import type { Command, CommandIO } from '../command.js';
import { closest, helpText, parseOptions } from '../options.js';
import { type CaffeIssue, formatIssue } from '../../caffe/issues.js';
import { type CaffeLog, readCaffeLog } from '../../caffe/log.js';
import { readSolver } from '../../caffe/solver.js';

const kinds = {
  'caffe-log': 'a Caffe training log (glog output of `caffe train`)',
  'caffe-solver': 'a Caffe solver.prototxt',
} as const;
type Kind = keyof typeof kinds;

const table = {} as const;
const summary = 'import Caffe files: training logs (caffe-log) and solver definitions (caffe-solver)';
const usage = `<${Object.keys(kinds).join('|')}> FILE [--json]`;

const fmt = (v: number | null): string => (v === null ? '-' : Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v));

function reportIssues(issues: readonly CaffeIssue[], io: CommandIO): void {
  for (const i of issues) io.err(`warning: ${formatIssue(i)}`);
}

/** A few readable lines about a log: what ran, how far, how it ended. */
export function describeLog(file: string, log: CaffeLog): string[] {
  const s = log.solver;
  const policy = s.lr_policy === undefined ? 'no solver block' : `lr_policy ${String(s.lr_policy)}`;
  const params = ['base_lr', 'max_lr', 'stepsize', 'stepvalue', 'gamma', 'momentum', 'weight_decay', 'max_iter', 'type', 'clip_gradients']
    .filter((k) => s[k] !== undefined).map((k) => `${k} ${Array.isArray(s[k]) ? (s[k] as unknown[]).join(',') : String(s[k])}`);
  const out = [`${file}: ${policy}${params.length ? ` (${params.join(', ')})` : ''}`];
  const tr = log.train, te = log.test;
  if (tr.length) {
    const last = tr[tr.length - 1]!;
    out.push(`  train: ${tr.length} points, iterations ${tr[0]!.iter}..${last.iter}, last loss ${fmt(last.loss)}`);
    const bad = tr.find((p) => !Number.isFinite(p.loss));
    if (bad) out.push(`  diverged: loss ${bad.loss} at iteration ${bad.iter}`);
  } else out.push('  train: no points');
  if (te.length) {
    const last = te[te.length - 1]!;
    const best = te.reduce((b, p) => ((p.accuracy ?? -Infinity) > (b.accuracy ?? -Infinity) ? p : b));
    out.push(`  test: ${te.length} evaluations, last accuracy ${fmt(last.accuracy)} at iteration ${last.iter}, best ${fmt(best.accuracy)} at iteration ${best.iter}`);
  } else out.push('  test: no evaluations');
  const maxIter = typeof s.max_iter === 'number' ? s.max_iter : undefined;
  const reached = Math.max(tr[tr.length - 1]?.iter ?? 0, te[te.length - 1]?.iter ?? 0);
  if (maxIter !== undefined && reached < maxIter) out.push(`  cut short: the log stops at iteration ${reached} of max_iter ${maxIter}`);
  return out;
}

const command: Command = {
  summary,
  async run(argv, io) {
    const { positionals, help, json } = parseOptions('import', table, argv);
    if (help) {
      io.out([helpText('import', summary, table, usage), '', 'Kinds:', ...Object.entries(kinds).map(([k, d]) => `  ${k.padEnd(14)} ${d}`)].join('\n'));
      return 0;
    }
    const [kind, file, ...more] = positionals;
    if (kind === undefined || !(kind in kinds)) {
      const hint = kind === undefined ? undefined : closest(kind, Object.keys(kinds));
      throw new LosstopoError({ code: 'invalid_option', path: 'KIND', ...(kind ? { received: kind } : {}) },
        `${kind === undefined ? 'missing' : `unknown kind ${JSON.stringify(kind)}`}; expected one of ${Object.keys(kinds).join('|')}${hint ? ` (did you mean ${hint}?)` : ''}; usage: losstopo import ${usage}`);
    }
    if (file === undefined) throw new LosstopoError({ code: 'invalid_option', path: 'FILE' }, `missing; usage: losstopo import ${kind} FILE [--json]`);
    if (more.length) throw new LosstopoError({ code: 'invalid_option', path: more[0]! }, `unexpected argument; losstopo import ${kind} takes one FILE`);

    if ((kind as Kind) === 'caffe-log') {
      const { log, issues } = readCaffeLog(file);
      reportIssues(issues, io);
      if (json) io.json({ solver: log.solver, train: log.train, test: log.test });
      else for (const l of describeLog(file, log)) io.out(l);
      return 0;
    }
    const read = readSolver(file);
    reportIssues(read.issues, io);
    if (json) {
      io.json({ solver: read.solver, schedule: read.schedule, settings: read.settings, issues: read.issues });
    } else {
      const { policy, ...rest } = read.schedule;
      io.out(`${file}: ${read.settings.type} solver, max_iter ${read.settings.maxIter ?? '-'}`);
      io.out(`  schedule: ${policy} ${Object.entries(rest).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`).join(' ')}`);
      io.out(`  momentum ${read.settings.momentum}, weight_decay ${read.settings.weightDecay}, clip_gradients ${read.settings.clipGradients ?? 'off'}, iter_size ${read.settings.iterSize}`);
    }
    return 0;
  },
};
export default command;
