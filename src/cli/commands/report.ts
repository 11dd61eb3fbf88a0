/**
 * `losstopo report RUN_DIR... --out DIR [--target 0.9] [--caffe-log FILE]... [--json]`: an HTML
 * report of one or more run folders: index.html (figures, a table of key numbers per run, each
 * run's configuration), every figure as DIR/<id>.svg and DIR/<id>.png, and DIR/report.json.
 * Written atomically (a failure leaves no half-written report).
 * JSON: {"out":DIR,"index":"DIR/index.html","figures":[...svg and png paths]} (absolute paths).
 */
import { LosstopoError, expected } from '../../errors.js';
import type { Command } from '../command.js';
import { helpText, parseOptions } from '../options.js';
import { writeReport } from '../../report/write.js';

const table = {
  out: { type: 'string', description: 'report folder to write (created; an earlier report there is replaced)', required: true },
  target: { type: 'number', min: 0, max: 1, description: 'test accuracy (fraction, e.g. 0.9) for the "iterations to target" column' },
  caffeLog: { type: 'strings', description: 'Caffe training log(s) to overlay, e.g. the authors\' logs; repeatable or comma-separated' },
  pngWidth: { type: 'int', min: 16, description: 'PNG width in pixels (default: twice the SVG width)' },
  title: { type: 'string', description: 'report title (default: from the runs)' },
  logLr: { type: 'boolean', default: false, description: 'range-test figures on a log LR axis (the paper uses a linear one)' },
} as const;

const summary = 'Write an HTML report (figures as SVG and PNG, key numbers, configurations) of run folders';
const usage = 'RUN_DIR... --out DIR [options]';

/** `--caffe-log` may repeat: collect every occurrence, return argv without them. */
export function takeRepeated(argv: readonly string[], flag: string): { values: string[]; rest: string[] } {
  const values: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { rest.push(...argv.slice(i)); break; }
    if (a === flag || a.startsWith(flag + '=')) {
      let v: string | undefined;
      if (a === flag) {
        v = argv[i + 1];
        if (v === undefined || v.startsWith('--')) throw expected(flag, 'a file (or comma-separated files)', 'nothing');
        i++;
      } else v = a.slice(flag.length + 1);
      values.push(...v.split(',').filter((s) => s !== ''));
      continue;
    }
    rest.push(a);
  }
  return { values, rest };
}

const command: Command = {
  summary,
  async run(argv, io) {
    const { values: caffeLogs, rest } = takeRepeated(argv, '--caffe-log');
    const { values, positionals, help, json } = parseOptions('report', table, rest);
    if (help) {
      io.out(helpText('report', summary, table, usage));
      return 0;
    }
    if (positionals.length === 0 && caffeLogs.length === 0) {
      throw new LosstopoError({ code: 'invalid_option', path: 'RUN_DIR' }, `missing; usage: losstopo report ${usage}`);
    }
    const res = await writeReport(positionals, values.out, {
      caffeLogs,
      ...(values.target !== undefined ? { target: values.target } : {}),
      ...(values.pngWidth !== undefined ? { pngWidth: values.pngWidth } : {}),
      ...(values.title !== undefined ? { title: values.title } : {}),
      figures: { logLr: values.logLr },
      onProgress: (line) => io.err(line),
    });
    if (json) {
      io.json({ out: res.out, index: res.index, figures: res.figures });
      return 0;
    }
    io.out(`report: ${res.index}`);
    io.out(`  ${res.runs.length} run${res.runs.length === 1 ? '' : 's'}, ${res.figures.length / 2} figure${res.figures.length === 2 ? '' : 's'} (SVG and PNG) in ${res.out}`);
    return 0;
  },
};
export default command;
