import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LosstopoError } from '../src/errors.js';
import { parseMetricRecord, readJsonlFrom, readRun } from '../src/report/read.js';
import { configLabel, runLabel, uniqueLabels } from '../src/report/label.js';
import { interpolationSummary, itersToTarget, summarizeRun } from '../src/report/summary.js';
import type { InterpolationRecord } from '../src/report/records.js';
import { runJson, tempDir, writeInterpolation, writeRangeTest, writeTrainRun } from './fixtures/report/make.js';

function catchErr(fn: () => unknown): LosstopoError {
  try { fn(); } catch (e) { if (e instanceof LosstopoError) return e; throw e; }
  assert.fail('expected a LosstopoError');
}

describe('readRun', () => {
  it('reads run.json and splits metrics into training and evaluation records', () => {
    const t = tempDir();
    try {
      const dir = writeTrainRun(join(t.dir, 'a'), { iters: 300, evalEvery: 100 });
      const run = readRun(dir);
      assert.equal(run.info.kind, 'train');
      assert.equal(run.info.status, 'completed');
      assert.deepEqual((run.info.config.schedule as Record<string, unknown>).policy, 'triangular');
      assert.equal(run.train.length, 300);
      assert.deepEqual(run.evals.map((e) => e.iter), [100, 200, 300]);
      assert.deepEqual(Object.keys(run.train[0]!), ['iter', 'lr', 'momentum', 'trainLoss']);
      assert.equal(run.evals[0]!.split, 'test');
      assert.deepEqual(run.partial, []);
    } finally { t.done(); }
  });

  it('leaves out an incomplete last line (a write in progress) and names the file', () => {
    const t = tempDir();
    try {
      const dir = writeTrainRun(join(t.dir, 'a'), { iters: 50, partialLine: true });
      const run = readRun(dir);
      assert.equal(run.train.length, 50);
      assert.deepEqual(run.partial, [join(dir, 'metrics.jsonl')]);
    } finally { t.done(); }
  });

  it('keeps a last line that lacks only its newline', () => {
    const t = tempDir();
    try {
      const dir = writeTrainRun(join(t.dir, 'a'), { iters: 5 });
      appendFileSync(join(dir, 'metrics.jsonl'), '{"iter":5,"lr":0.1,"momentum":null,"trainLoss":1}');
      const run = readRun(dir);
      assert.equal(run.train.length, 6);
      assert.equal(run.train[5]!.momentum, null);
    } finally { t.done(); }
  });

  it('a malformed line in the middle is an error naming the file and line', () => {
    const t = tempDir();
    try {
      const dir = join(t.dir, 'bad');
      mkdirSync(dir);
      writeFileSync(join(dir, 'run.json'), JSON.stringify(runJson({})));
      writeFileSync(join(dir, 'metrics.jsonl'), '{"iter":0,"lr":0.1,"momentum":0.9,"trainLoss":2}\n\n{"iter":1,"lr":0.1,\n{"iter":2,"lr":0.1,"momentum":0.9,"trainLoss":2}\n');
      const e = catchErr(() => readRun(dir));
      assert.equal(e.info.code, 'parse_error');
      assert.equal(e.info.file, join(dir, 'metrics.jsonl'));
      assert.equal(e.info.line, 3);
      assert.match(e.format(), /metrics\.jsonl:3: not valid JSON/);
    } finally { t.done(); }
  });

  it('a mistyped field names the field, what was expected and what was received', () => {
    const e = catchErr(() => parseMetricRecord({ iter: 3, lr: 0.1, momentum: 0.9, trainLoss: 'abc' }, { file: 'm.jsonl', line: 7 }));
    assert.equal(e.format(), 'm.jsonl:7: trainLoss: expected a number (or null), received "abc"');
    const e2 = catchErr(() => parseMetricRecord({ iter: -1, split: 'test', loss: 1, accuracy: 0.5 }, { file: 'm.jsonl', line: 2 }));
    assert.equal(e2.info.path, 'iter');
    const e3 = catchErr(() => parseMetricRecord({ iter: 1, split: 'dev', loss: 1, accuracy: 0.5 }, { file: 'm.jsonl', line: 2 }));
    assert.match(e3.message, /expected "test", "train" or "val", received "dev"/);
    const e4 = catchErr(() => parseMetricRecord({ iter: 1, foo: 1 }, { file: 'm.jsonl', line: 4 }));
    assert.match(e4.format(), /^m\.jsonl:4: expected a training record/);
  });

  it('null losses (a diverged run) read as NaN; extra fields are allowed', () => {
    const r = parseMetricRecord({ iter: 1, lr: 0.3, momentum: null, trainLoss: null, gradNorm: 3 }, { file: 'f' });
    assert.ok('trainLoss' in r && Number.isNaN(r.trainLoss));
    const ev = parseMetricRecord({ iter: 1, split: 'test', loss: null, accuracy: 0.1 }, { file: 'f' });
    assert.ok('loss' in ev && Number.isNaN(ev.loss));
  });

  it('a folder without run.json, or with a bad one, is an error naming run.json', () => {
    const t = tempDir();
    try {
      mkdirSync(join(t.dir, 'empty'));
      const e = catchErr(() => readRun(join(t.dir, 'empty')));
      assert.equal(e.info.code, 'missing_file');
      assert.equal(e.info.file, join(t.dir, 'empty', 'run.json'));
      mkdirSync(join(t.dir, 'nokind'));
      writeFileSync(join(t.dir, 'nokind', 'run.json'), '{"status":"running"}');
      assert.match(catchErr(() => readRun(join(t.dir, 'nokind'))).format(), /run\.json: kind: expected a string/);
      mkdirSync(join(t.dir, 'notjson'));
      writeFileSync(join(t.dir, 'notjson', 'run.json'), '{\n"kind": "train",\n oops\n}');
      const e3 = catchErr(() => readRun(join(t.dir, 'notjson')));
      assert.equal(e3.info.code, 'parse_error');
      assert.equal(e3.info.line, 3);
      assert.equal(catchErr(() => readRun(join(t.dir, 'absent'))).info.code, 'missing_file');
    } finally { t.done(); }
  });

  it('reads range-test.json, interpolation.jsonl and all-pairs.json', () => {
    const t = tempDir();
    try {
      const rt = readRun(writeRangeTest(join(t.dir, 'rt'), { iters: 100 }));
      assert.equal(rt.rangeTest!.points.length, 101);
      assert.equal(rt.rangeTest!.points.filter((p) => p.testAccuracy !== undefined).length, 6);
      assert.ok(Number.isNaN(rt.rangeTest!.points[100]!.trainLoss), 'null loss reads as NaN');
      assert.deepEqual(Object.keys(rt.rangeTest!.suggestions), ['baseLr', 'maxLr', 'valley', 'steepest']);
      const ip = readRun(writeInterpolation(join(t.dir, 'ip'), { allPairs: true }));
      assert.equal(ip.interpolation!.length, 42);
      assert.deepEqual(ip.allPairs!.labels, ['cycle 1', 'cycle 2', 'cycle 3']);
      writeFileSync(join(t.dir, 'ip', 'all-pairs.json'), '{"labels":["a","b"],"barrier":[[0,1]]}');
      assert.match(catchErr(() => readRun(join(t.dir, 'ip'))).format(), /all-pairs\.json: barrier: expected an array of 2 rows/);
    } finally { t.done(); }
  });
});

describe('readJsonlFrom (following a growing file)', () => {
  it('returns complete lines after an offset, leaves a partial line for later, continues line numbers', () => {
    const t = tempDir();
    try {
      const f = join(t.dir, 'm.jsonl');
      writeFileSync(f, '{"iter":0,"lr":1,"momentum":null,"trainLoss":1}\n{"iter":1,"lr":1,"mom');
      const a = readJsonlFrom(f, 0, parseMetricRecord);
      assert.equal(a.records.length, 1);
      assert.equal(a.lines, 1);
      assert.equal(a.offset, Buffer.byteLength('{"iter":0,"lr":1,"momentum":null,"trainLoss":1}\n'));
      const same = readJsonlFrom(f, a.offset, parseMetricRecord, { linesBefore: a.lines });
      assert.equal(same.records.length, 0);
      assert.equal(same.offset, a.offset);
      appendFileSync(f, 'entum":null,"trainLoss":2}\n{"iter":2,"split":"test","loss":1,"accuracy":0.5}\n');
      const b = readJsonlFrom(f, a.offset, parseMetricRecord, { linesBefore: a.lines });
      assert.deepEqual(b.records.map((r) => r.iter), [1, 2]);
      assert.equal(b.lines, 3);
      appendFileSync(f, 'garbage\n');
      const e = catchErr(() => readJsonlFrom(f, b.offset, parseMetricRecord, { linesBefore: b.lines }));
      assert.equal(e.info.line, 4);
      truncateSync(f, 10);
      assert.equal(readJsonlFrom(f, b.offset, parseMetricRecord).shrunk, true);
      assert.equal(readJsonlFrom(join(t.dir, 'none.jsonl'), 0, parseMetricRecord).missing, true);
    } finally { t.done(); }
  });

  it('reads a line longer than maxBytes whole', () => {
    const t = tempDir();
    try {
      const f = join(t.dir, 'm.jsonl');
      const long = JSON.stringify({ iter: 0, lr: 1, momentum: null, trainLoss: 1, pad: 'x'.repeat(5000) });
      writeFileSync(f, long + '\n' + long + '\n');
      const r = readJsonlFrom(f, 0, parseMetricRecord, { maxBytes: 100 });
      assert.equal(r.records.length, 1);
      const r2 = readJsonlFrom(f, r.offset, parseMetricRecord, { maxBytes: 100, linesBefore: r.lines });
      assert.equal(r2.records.length, 1);
      assert.equal(r2.offset, 2 * (long.length + 1));
    } finally { t.done(); }
  });
});

describe('labels', () => {
  it('names runs by name, else by configuration, else by folder; makes them unique', () => {
    const info = (o: Record<string, unknown>) => ({ kind: 'train', status: 'completed', versions: {}, config: {}, ...o });
    assert.equal(configLabel(info({ config: { model: 'resnet56', schedule: { policy: 'triangular', baseLr: 0.1, maxLr: 1 } } })), 'resnet56 triangular 0.1-1.0');
    assert.equal(configLabel(info({ config: { model: { stages: [9, 9, 9] }, schedule: { policy: 'multistep', baseLr: 0.35 } } })), 'resnet56 multistep 0.35');
    assert.equal(configLabel(info({ kind: 'range-test', config: { model: 'resnet20', schedule: { policy: 'range', maxLr: 3 } } })), 'resnet20 range 0-3.0');
    assert.equal(configLabel(info({ kind: 'interpolation', config: { model: { stages: [3, 3, 3] }, from: 'runs/a/checkpoints/iter-20000.safetensors', to: 'runs/a/checkpoints/iter-40000.safetensors' } })),
      'resnet20 interpolation iter-20000↔iter-40000');
    assert.equal(runLabel(info({ name: 'my run', config: { model: 'resnet56' } }), '/x/y'), 'my run');
    assert.equal(runLabel(info({}), '/runs/abc'), 'abc');
    assert.deepEqual(uniqueLabels([{ label: 'r', dir: '/a/x' }, { label: 'r', dir: '/b/y' }, { label: 's', dir: '/c' }]), ['r [x]', 'r [y]', 's']);
    assert.deepEqual(uniqueLabels([{ label: 'r', dir: '/a/x' }, { label: 'r', dir: '/b/x' }]), ['r [x]', 'r [x] #2']);
  });
});

describe('key numbers', () => {
  it('final/best accuracy, iterations to target, final training loss, LR range', () => {
    const t = tempDir();
    try {
      const run = readRun(writeTrainRun(join(t.dir, 'a'), { iters: 1000, evalEvery: 100, finalAcc: 0.9 }));
      const s = summarizeRun(run, { target: 0.8 });
      // accuracy(iter) = 0.1 + 0.8 (1 - exp(-iter/250)) >= 0.8  <=>  iter >= 250 ln 8 = 519.9: first evaluation 600.
      assert.equal(s.itersToTarget, 600);
      assert.equal(itersToTarget(run.evals, 0.95), null);
      assert.equal(s.finalTestIter, 1000);
      assert.equal(s.bestTestIter, 1000);
      assert.ok(Math.abs(s.finalTestAccuracy! - (0.1 + 0.8 * (1 - Math.exp(-4)))) < 1e-7);
      assert.equal(s.iterations, 999);
      assert.ok(Math.abs(s.minLr! - 0.1) < 1e-6 && Math.abs(s.maxLr! - 1.0) < 1e-6);
      const mean = run.train.slice(-100).reduce((a, r) => a + r.trainLoss, 0) / 100;
      assert.ok(Math.abs(s.finalTrainLoss! - mean) < 1e-12);
      assert.equal(s.diverged, false);
    } finally { t.done(); }
  });

  it('interpolation barrier: the rise above the line between alpha 0 and 1, on a closed form', () => {
    // loss(a) = 1 + a + 2 * 4a(1-a) on [0,1]: line 1 + a, bump peaks at a = 0.5 with height 2.
    const recs: InterpolationRecord[] = [];
    for (let k = -5; k <= 15; k++) {
      const a = k / 10;
      const inside = a >= 0 && a <= 1 ? 8 * a * (1 - a) : 0;
      recs.push({ alpha: a, split: 'train', loss: 1 + a + inside + (a < 0 ? -a * 5 : a > 1 ? (a - 1) * 5 : 0), accuracy: 0.9 - inside / 10 });
    }
    const s = interpolationSummary(recs, 'train')!;
    assert.ok(Math.abs(s.barrier! - 2) < 1e-12);
    assert.equal(s.barrierAlpha, 0.5);
    assert.equal(s.lossAt0, 1);
    assert.equal(s.lossAt1, 2);
    assert.equal(s.minAlpha, 0);
    assert.equal(interpolationSummary(recs, 'test'), null);
    // A convex bowl has no barrier; endpoints between samples are interpolated.
    const bowl: InterpolationRecord[] = [-0.25, 0.25, 0.75, 1.25].map((a) => ({ alpha: a, split: 'test', loss: (a - 0.5) ** 2, accuracy: 0.5 }));
    const b = interpolationSummary(bowl, 'test')!;
    assert.equal(b.barrier, 0);
    assert.ok(Math.abs(b.lossAt0! - (0.5625 + 0.0625) / 2) < 1e-12);
  });
});
