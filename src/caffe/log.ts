/**
 * Caffe training logs (glog output of `caffe train`) -> {solver, train, test}.
 *
 * - solver: the block after "Initializing solver from parameters:", read as protobuf text
 *   (repeated fields such as stepvalue and test_iter as arrays).
 * - train: one point per "Iteration N, loss = X" (also Caffe's "Iteration N (… iter/s …), loss = X"),
 *   with the LR of the matching "Iteration N, lr = Y" line (sgd_solver.cpp), or null where the log
 *   has none (the final loss Caffe prints after the last iteration).
 * - test: one point per "Iteration N, Testing net (#k)", with the "Test net output #j: accuracy = …"
 *   and "loss = …" lines that follow it. An evaluation the log ends in the middle of is dropped.
 *
 * Lines from other threads (data prefetch, multi-GPU setup) are ignored wherever they fall.
 * Diverged values (`nan`, `-nan`, `inf`) are kept as NaN / ±Infinity (JSON: null).
 */
import { LosstopoError } from '../errors.js';
import type { CaffeIssue } from './issues.js';
import { type PField, parsePrototxt, toPlain } from './prototxt.js';
import { type SolverRead, readTextFile, repeatedSolverFields, solverFromFields } from './solver.js';

export interface CaffeTrainPoint { iter: number; loss: number; lr: number | null }
export interface CaffeTestPoint {
  iter: number;
  accuracy: number | null;
  loss: number | null;
  /** Present only for test nets other than #0. */
  net?: number;
}
export interface CaffeLog {
  solver: Record<string, unknown>;
  train: CaffeTrainPoint[];
  test: CaffeTestPoint[];
}
export interface CaffeLogRead {
  log: CaffeLog;
  /** The solver block as parsed fields (with line numbers), or null when the log has none. */
  solverFields: PField[] | null;
  issues: CaffeIssue[];
}

const glogPrefix = /^[IWEF]\d{4} \d\d:\d\d:\d\d(?:\.\d+)? +\d+ [^\]]*\] ?/;
const NUM = '([-+]?(?:\\d+\\.?\\d*(?:[eE][-+]?\\d+)?|\\.\\d+(?:[eE][-+]?\\d+)?|-?nan|[-+]?inf(?:inity)?))';
const reLoss = new RegExp(`Iteration (\\d+)(?: \\([^)]*\\))?, loss = ${NUM}`, 'i');
const reLr = new RegExp(`Iteration (\\d+), lr = ${NUM}`, 'i');
const reTesting = /Iteration (\d+)(?: \([^)]*\))?, Testing net \(#(\d+)\)/;
const reTestOut = new RegExp(`Test net output #(\\d+): ([^=]+?) = ${NUM}`, 'i');

/** Parses a number as glog prints it, including nan / -nan / inf. */
export function logNumber(s: string): number {
  const t = s.toLowerCase();
  if (t.includes('nan')) return NaN;
  if (t.includes('inf')) return t.startsWith('-') ? -Infinity : Infinity;
  return Number(s);
}

export function parseCaffeLog(text: string, file = '<log>'): CaffeLogRead {
  if (text.includes('\u0000')) throw notALog(file, 'it is binary');
  const lines = text.split(/\r?\n/);
  const issues: CaffeIssue[] = [];
  const train: CaffeTrainPoint[] = [];
  const test: (CaffeTestPoint & { line: number; seen: Set<string> })[] = [];
  const lrByIter = new Map<number, number>();
  let solverFields: PField[] | null = null;
  let open: (CaffeTestPoint & { line: number; seen: Set<string> }) | null = null;
  let glogLines = 0;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const lineNo = i + 1;
    if (glogPrefix.test(line)) glogLines++;
    if (line.includes('Initializing solver from parameters')) {
      // The block runs until the next glog line.
      let j = i + 1;
      while (j < lines.length && !glogPrefix.test(lines[j]!)) j++;
      if (solverFields === null) {
        try {
          solverFields = parsePrototxt(lines.slice(i + 1, j).join('\n'), file, i + 2);
        } catch (e) {
          if (!(e instanceof LosstopoError)) throw e;
          issues.push({ code: 'unparsed_solver', file, line: e.info.line ?? lineNo, message: `solver block could not be read: ${e.message}` });
          solverFields = [];
        }
      } else {
        issues.push({ code: 'multiple_solvers', file, line: lineNo, message: 'another solver block; the first one is used' });
      }
      i = j - 1;
      continue;
    }
    let m: RegExpExecArray | null;
    if ((m = reLoss.exec(line))) {
      train.push({ iter: Number(m[1]), loss: logNumber(m[2]!), lr: null });
      continue;
    }
    if ((m = reLr.exec(line))) {
      const iter = Number(m[1]);
      if (!lrByIter.has(iter)) lrByIter.set(iter, logNumber(m[2]!));
      continue;
    }
    if ((m = reTesting.exec(line))) {
      open = { iter: Number(m[1]), accuracy: null, loss: null, line: lineNo, seen: new Set() };
      const net = Number(m[2]);
      if (net !== 0) open.net = net;
      test.push(open);
      continue;
    }
    if ((m = reTestOut.exec(line))) {
      const name = m[2]!.trim();
      if (open === null) {
        issues.push({ code: 'orphan_output', file, line: lineNo, path: `test.${name}`, message: 'test output without a preceding "Testing net" line; ignored' });
        continue;
      }
      if (open.seen.has(name)) {
        issues.push({ code: 'repeated_output', file, line: lineNo, path: `test.${name}`, message: `repeated for the evaluation at iteration ${open.iter}; the first value is kept` });
        continue;
      }
      open.seen.add(name);
      if (name === 'accuracy') open.accuracy = logNumber(m[3]!);
      else if (name === 'loss') open.loss = logNumber(m[3]!);
    }
  }

  if (solverFields === null && train.length === 0 && test.length === 0) {
    throw notALog(file, glogLines === 0 ? 'no glog lines' : 'no solver parameters and no "Iteration N, loss = X" lines');
  }
  for (const p of train) p.lr = lrByIter.get(p.iter) ?? null;
  // An evaluation with no outputs at all is one the log was cut in the middle of.
  const complete = test.filter((t) => {
    if (t.seen.size > 0) return true;
    issues.push({ code: 'truncated_test', file, line: t.line, message: `the evaluation at iteration ${t.iter} has no outputs (the log ends or was cut there); dropped` });
    return false;
  });
  return {
    log: {
      solver: solverFields ? toPlain(solverFields, repeatedSolverFields) : {},
      train,
      test: complete.map(({ line: _l, seen: _s, ...t }) => t),
    },
    solverFields,
    issues,
  };
}

function notALog(file: string, why: string): LosstopoError {
  return new LosstopoError({ code: 'invalid_file', file }, `not a Caffe training log (${why})`);
}

export function readCaffeLog(path: string): CaffeLogRead {
  return parseCaffeLog(readTextFile(path), path);
}

/**
 * The solver settings and schedule of a log's solver block (file:line messages point into the
 * log), e.g. to recompute the LR column from the solver parameters.
 */
export function solverOfLog(read: CaffeLogRead, file = '<log>'): SolverRead {
  if (read.solverFields === null) throw new LosstopoError({ code: 'invalid_file', file }, 'the log has no "Initializing solver from parameters" block');
  return solverFromFields(read.solverFields, file);
}
