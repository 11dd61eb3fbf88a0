/**
 * The Caffe training-log reader: a synthetic log with the awkward cases (fixtures/caffe/diverged-log.txt),
 * every one of the authors' logs in ../shared/reference/caffe-logs (skipped with a reason when that
 * folder is absent), the LR column of those logs recomputed from the solver block of the same log,
 * and `losstopo import` end to end.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LosstopoError } from '../src/errors.js';
import { type CaffeLogRead, parseCaffeLog, readCaffeLog, solverOfLog } from '../src/caffe/index.js';
import { type ScheduleConfig, scheduleFromConfig } from '../src/schedules/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/caffe/${name}`, import.meta.url));
const logsDir = fileURLToPath(new URL('../../shared/reference/caffe-logs', import.meta.url));
const haveLogs = existsSync(logsDir);
const skipLogs = haveLogs ? false : `the authors' logs are not at ${logsDir} (a ../shared checkout beside this one)`;
if (!haveLogs) console.log(`# skipping reference-log tests: ${skipLogs}`);
const logFiles = haveLogs ? readdirSync(logsDir).filter((f) => f.endsWith('.log')).sort() : [];

function losstopo(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('./bin/losstopo', args, { cwd: root, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a synthetic log with the awkward cases', () => {
  const r = readCaffeLog(fixture('diverged-log.txt'));
  test('solver block read as protobuf text', () => {
    assert.equal(r.log.solver.lr_policy, 'triangular');
    assert.deepEqual(r.log.solver.test_iter, [10]);
    assert.deepEqual(r.log.solver.train_state, { level: 0, stage: '' });
  });
  test('train points carry the LR of their iteration; both loss-line formats; nan kept as NaN', () => {
    assert.deepEqual(r.log.train.map((p) => p.iter), [0, 100, 200, 300]);
    assert.deepEqual(r.log.train.map((p) => p.lr), [0, 1, 2, 3]);
    assert.equal(r.log.train[1]!.loss, 1.9);
    assert.ok(Number.isNaN(r.log.train[2]!.loss));
  });
  test('test evaluations: second test net marked, repeated output keeps the first, -nan/inf, cut-off one dropped', () => {
    assert.deepEqual(r.log.test.map((t) => [t.iter, t.net ?? 0, t.accuracy]), [[0, 0, 0.1], [0, 1, 0.11], [100, 0, 0.35], [200, 0, 0.1], [300, 0, 0.1]]);
    assert.ok(Number.isNaN(r.log.test[3]!.loss!));
    assert.equal(r.log.test[4]!.loss, Infinity);
    assert.deepEqual(r.issues.map((i) => [i.code, i.line]), [['repeated_output', 41], ['truncated_test', 55]]);
  });
  test('in JSON, NaN and infinities are null', () => {
    const doc = JSON.parse(JSON.stringify(r.log));
    assert.equal(doc.train[2].loss, null);
    assert.equal(doc.test[4].loss, null);
  });
  test('the solver block reproduces the LR column', () => {
    const s = scheduleFromConfig(solverOfLog(r).schedule);
    for (const p of r.log.train) assert.ok(Math.abs(s(p.iter).lr - p.lr!) <= lrTolerance(p.lr!, 10), `iter ${p.iter}`);
  });
});

describe('not a Caffe log', () => {
  test('plain text, binary and empty input: one line naming the file', () => {
    for (const [text, why] of [['hello\nworld\n', /no glog lines/], ['\u0000\u0001', /binary/], ['', /no glog lines/]] as const) {
      let err: unknown;
      try { parseCaffeLog(text, 'thing.txt'); } catch (e) { err = e; }
      assert.ok(err instanceof LosstopoError);
      assert.match(err.format(), /^thing\.txt: not a Caffe training log \(/);
      assert.match(err.format(), why);
    }
  });
});

/** max_lr - base_lr of a cyclical Caffe schedule, else 0. */
function lrSpan(c: ScheduleConfig): number {
  return c.policy === 'triangular' || c.policy === 'triangular2' || c.policy === 'exp_range' ? c.maxLr - c.baseLr : 0;
}

/** Relative tolerance of the logged LR: glog prints 6 significant digits; Smith's fork computes in float32. */
function lrTolerance(logged: number, span: number): number {
  return 5e-6 * Math.abs(logged) + 1e-7 * span + 1e-12;
}

describe("the authors' logs", { skip: skipLogs }, () => {
  const reads = new Map<string, CaffeLogRead>();
  const get = (f: string): CaffeLogRead => {
    if (!reads.has(f)) reads.set(f, readCaffeLog(`${logsDir}/${f}`));
    return reads.get(f)!;
  };

  test('all 43 are there', () => { assert.equal(logFiles.length, 43); });

  for (const f of logFiles) {
    test(`${f}: solver, train and test read, in order, at the display/test cadence`, () => {
      const { log } = get(f);
      const display = log.solver.display as number, interval = log.solver.test_interval as number, maxIter = log.solver.max_iter as number;
      assert.ok(typeof log.solver.lr_policy === 'string');
      assert.ok(log.train.length >= 50 && log.test.length >= 50, `${log.train.length} train, ${log.test.length} test`);
      log.train.forEach((p, i) => {
        assert.ok(p.iter % display === 0 && p.iter <= maxIter);
        if (i > 0) assert.ok(p.iter > log.train[i - 1]!.iter);
        assert.ok(Number.isFinite(p.loss));
        // Only the loss Caffe prints after the last iteration has no LR line.
        if (p.lr === null) assert.equal(p.iter, maxIter);
      });
      log.test.forEach((t, i) => {
        assert.ok(t.iter % interval === 0);
        if (i > 0) assert.ok(t.iter > log.test[i - 1]!.iter);
        assert.ok(t.accuracy !== null && t.accuracy >= 0 && t.accuracy <= 1 && t.loss !== null);
      });
    });
  }

  const lrCases: [string, string][] = [
    ['triangular CLR (Fig. 1a)', 'clr3SS5kFig1a.log'],
    ['triangular CLR, ResNet-110', 'clr3SS5kRes110Tab1.log'],
    ['multistep baseline', 'lr35Fig1a.log'],
    ['multistep with AdaDelta', 'lr35AdaDeltaFig9.log'],
    ['range test 0..3 over 20k', 'range3Iter20kFig2b.log'],
    ['range test 0..2 over 80k', 'range2SS80kRes56LR.log'],
    ['range test cut short, with clipping', 'lrRange3SS520kClip10Fig12a.log'],
  ];
  for (const [what, f] of lrCases) {
    test(`LR column of ${f} (${what}) reproduced by the solver parameters read from it`, () => {
      const read = get(f);
      const { schedule } = solverOfLog(read, f);
      const s = scheduleFromConfig(schedule);
      const span = lrSpan(schedule);
      let checked = 0;
      for (const p of read.log.train) {
        if (p.lr === null) continue;
        const ours = s(p.iter).lr;
        assert.ok(Math.abs(ours - p.lr) <= lrTolerance(p.lr, span), `${f} iter ${p.iter}: log ${p.lr}, ours ${ours}`);
        checked++;
      }
      assert.ok(checked >= 100, `${checked} LRs checked`);
    });
  }

  test('every log: the LR column agrees with the schedule of its own solver block', () => {
    for (const f of logFiles) {
      const read = get(f);
      const { schedule } = solverOfLog(read, f);
      const s = scheduleFromConfig(schedule);
      const span = lrSpan(schedule);
      for (const p of read.log.train) if (p.lr !== null) assert.ok(Math.abs(s(p.iter).lr - p.lr) <= lrTolerance(p.lr, span), `${f} iter ${p.iter}`);
    }
  });

  test('spot values of clr3SS5kFig1a.log', () => {
    const { log } = get('clr3SS5kFig1a.log');
    assert.deepEqual(log.train[1], { iter: 100, loss: 1.90421, lr: 0.158 });
    assert.deepEqual(log.test[log.test.length - 1], { iter: 10000, accuracy: 0.9244, loss: 0.308216 });
    assert.deepEqual(log.solver, {
      test_iter: [200], test_interval: 100, base_lr: 0.1, display: 100, max_iter: 10000, lr_policy: 'triangular', momentum: 0.9,
      weight_decay: 0.0001, stepsize: 5000, snapshot: 20000, snapshot_prefix: 'examples/sc/snapshots/clr3SS5kFig1a', solver_mode: 'GPU',
      device_id: 0, net: 'examples/sc/architectures/arch.prototxt', train_state: { level: 0, stage: '' }, max_lr: 3,
    });
  });
  test('runs cut short end where the log ends; the unfinished evaluation is reported, not kept', () => {
    const r = get('lrRange3SS520kClip10Fig12a.log');
    assert.equal(r.log.train[r.log.train.length - 1]!.iter, 12800);
    assert.equal(r.log.test[r.log.test.length - 1]!.iter, 12800);
    assert.deepEqual(r.issues.map((i) => [i.code, i.line]), [['truncated_test', 8054]]);
  });
  test('solver types and the settings the trainer needs', () => {
    assert.equal(solverOfLog(get('lr35AdaDeltaFig9.log')).settings.type, 'AdaDelta');
    assert.equal(solverOfLog(get('lr35AdaDeltaFig9.log')).settings.momentum, 0);
    assert.equal(solverOfLog(get('lr35AdamFig9.log')).settings.type, 'Adam');
    assert.equal(solverOfLog(get('clr3SS5kNestFig9.log')).settings.type, 'Nesterov');
    assert.equal(solverOfLog(get('lrRange3SS520kClip2Fig12a.log')).settings.clipGradients, 2);
    assert.deepEqual(get('lr35Fig1a.log').log.solver.stepvalue, [50000, 70000]);
  });
});

describe('losstopo import', () => {
  test('caffe-log --json: exactly {solver, train[{iter, loss, lr}], test[{iter, accuracy, loss}]}', () => {
    const r = losstopo('import', 'caffe-log', fixture('diverged-log.txt'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(doc), ['solver', 'train', 'test']);
    assert.deepEqual(Object.keys(doc.train[0]), ['iter', 'loss', 'lr']);
    assert.deepEqual(Object.keys(doc.test[0]), ['iter', 'accuracy', 'loss']);
    assert.equal(doc.train[2].loss, null);
    // warnings go to stderr, one line each
    assert.match(r.stderr, /diverged-log\.txt:41: test\.accuracy: repeated/);
  });
  test('caffe-log of a reference log', { skip: skipLogs }, () => {
    const r = losstopo('import', 'caffe-log', `${logsDir}/range3Iter5kFig2b.log`, '--json');
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.train.length, 51);
    assert.equal(doc.test.length, 51);
    assert.equal(doc.solver.stepsize, 5000);
  });
  test('caffe-log without --json: a readable summary', () => {
    const r = losstopo('import', 'caffe-log', fixture('diverged-log.txt'));
    assert.equal(r.code, 0);
    assert.match(r.stdout, /lr_policy triangular/);
    assert.match(r.stdout, /diverged: loss NaN at iteration 200/);
    assert.match(r.stdout, /cut short: the log stops at iteration 300 of max_iter 1000/);
  });
  test('caffe-solver --json', () => {
    const r = losstopo('import', 'caffe-solver', fixture('solver-multistep.prototxt'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.schedule.policy, 'multistep');
    assert.equal(doc.settings.type, 'Nesterov');
    assert.match(r.stderr, /solver-multistep\.prototxt:17: my_custom_knob: not a Caffe solver field/);
  });
  const bad: [string, string[], RegExp][] = [
    ['a file that is not a Caffe log', ['caffe-log', fixture('not-a-log.txt')], /not-a-log\.txt: not a Caffe training log/],
    ['a missing file', ['caffe-log', '/no/such.log'], /\/no\/such\.log: no such file/],
    ['a malformed solver', ['caffe-solver', fixture('solver-malformed.prototxt')], /solver-malformed\.prototxt:3: /],
    ['an unknown kind', ['caffe-logs', 'x'], /unknown kind "caffe-logs".*did you mean caffe-log\?/],
    ['no file', ['caffe-log'], /FILE: missing/],
  ];
  for (const [name, args, re] of bad) {
    test(`bad input: ${name} -> exit 2, one line`, () => {
      const r = losstopo('import', ...args, '--json');
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, re);
    });
  }
});
