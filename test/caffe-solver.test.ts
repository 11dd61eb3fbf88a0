/**
 * The protobuf text reader and solver.prototxt -> schedule config + trainer settings.
 * Fixtures: test/fixtures/caffe/solver-*.prototxt.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { LosstopoError } from '../src/errors.js';
import { parsePrototxt, parseSolver, readSolver, toPlain } from '../src/caffe/index.js';
import { scheduleFromConfig } from '../src/schedules/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/caffe/${name}`, import.meta.url));

function fails(fn: () => unknown, re: RegExp, line?: number): LosstopoError {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  assert.ok(err instanceof LosstopoError, `expected a LosstopoError, got ${String(err)}`);
  assert.match(err.format(), re);
  assert.ok(!err.format().includes('\n'));
  if (line !== undefined) assert.equal(err.info.line, line, err.format());
  return err;
}

describe('protobuf text format', () => {
  test('scalars, strings (concatenated, escaped), enums, nested blocks, lists, comments, separators', () => {
    const fields = parsePrototxt([
      'a: 1  # comment',
      "b: 'x' \"y\\n\"",
      'c: GPU; d: -2.5e-3, e: true',
      'm { k: 1 n < z: "q" > }',
      'l: [1, 2, 3]',
      'm2: { }',
      'f: 1.5f x: 0x10 ninf: -inf',
    ].join('\n'), 'inline');
    assert.deepEqual(toPlain(fields), { a: 1, b: 'xy\n', c: 'GPU', d: -0.0025, e: true, m: { k: 1, n: { z: 'q' } }, l: [1, 2, 3], m2: {}, f: 1.5, x: 16, ninf: -Infinity });
    assert.deepEqual(fields.map((f) => f.line), [1, 2, 3, 3, 3, 4, 5, 5, 5, 6, 7, 7, 7]);
  });
  test('repeated names become arrays; declared-repeated names always are', () => {
    assert.deepEqual(toPlain(parsePrototxt('s: 1\ns: 2\nt: 3')), { s: [1, 2], t: 3 });
    assert.deepEqual(toPlain(parsePrototxt('t: 3'), new Set(['t'])), { t: [3] });
  });
  const malformed: [string, string, RegExp, number][] = [
    ['missing colon', 'a: 1\nb 2', /expected ":" or "\{" after field name "b"/, 2],
    ['missing value', 'a: 1\nb:\n', /field "b" has no value/, 2],
    ['unterminated string', 'a: "abc\nb: 1', /unterminated string/, 1],
    ['unclosed block', 'a {\n b: 1\n', /missing "\}"/, 2],
    ['stray closing brace', 'a: 1\n}\n', /unexpected "\}"/, 2],
    ['two values on a line', 'base_lr: 0.1 0.2', /unexpected "0\.2" after the value/, 1],
    ['bad character', 'a: 1\n@b: 2', /unexpected character "@"/, 2],
    ['bad list', 'a: [1 2]', /expected "," or "\]"/, 1],
  ];
  for (const [name, text, re, line] of malformed) {
    test(`malformed: ${name} -> file:line`, () => {
      const e = fails(() => parsePrototxt(text, 'x.prototxt'), re, line);
      assert.equal(e.info.code, 'parse_error');
      assert.ok(e.format().startsWith(`x.prototxt:${line}: `), e.format());
    });
  }
});

describe('solver.prototxt', () => {
  test("the authors' CLR solver -> triangular schedule + settings", () => {
    const r = readSolver(fixture('solver-clr.prototxt'));
    assert.deepEqual(r.schedule, { policy: 'triangular', baseLr: 0.1, maxLr: 3, stepsize: 5000, momentum: 0.9, warmupIters: 0, warmupStartLr: 0 });
    assert.equal(r.settings.type, 'SGD');
    assert.equal(r.settings.maxIter, 10000);
    assert.equal(r.settings.weightDecay, 1e-4);
    assert.deepEqual(r.settings.testIter, [200]);
    assert.equal(r.settings.snapshotPrefix, 'examples/sc/snapshots/clr3SS5kFig1a');
    assert.equal(r.settings.clipGradients, null);
    assert.equal(r.settings.randomSeed, null);
    assert.deepEqual(r.solver.train_state, { level: 0, stage: '' });
    assert.deepEqual(r.issues, []);
    const s = scheduleFromConfig(r.schedule);
    assert.equal(s(5000).lr, 3);
    assert.equal(s(5000).momentum, 0.9);
  });
  test('multistep with the enum solver type, clipping, iter_size; unknown fields kept and reported', () => {
    const r = readSolver(fixture('solver-multistep.prototxt'));
    assert.deepEqual(r.schedule, { policy: 'multistep', baseLr: 0.35, gamma: 0.1, stepvalue: [50000, 70000], momentum: 0.9, warmupIters: 0, warmupStartLr: 0 });
    assert.equal(r.settings.type, 'Nesterov');
    assert.equal(r.settings.clipGradients, 5);
    assert.equal(r.settings.iterSize, 2);
    assert.equal(r.settings.randomSeed, 1701);
    assert.deepEqual(r.settings.extra, { my_custom_knob: 3 });
    assert.equal(r.issues.length, 1);
    assert.deepEqual({ ...r.issues[0] }, { code: 'unknown_field', path: 'my_custom_knob', file: fixture('solver-multistep.prototxt'), line: 17, message: 'not a Caffe solver field; kept in settings.extra, not used' });
  });
  test('a malformed file is an error with file:line', () => {
    fails(() => readSolver(fixture('solver-malformed.prototxt')), /solver-malformed\.prototxt:3: expected ":" or "\{" after field name "lr_policy"/, 3);
  });
  test('Caffe defaults where the file is silent', () => {
    const r = parseSolver('base_lr: 0.01\nlr_policy: "fixed"');
    assert.equal(r.schedule.policy, 'fixed');
    assert.equal(r.schedule.momentum, null);
    assert.deepEqual({ ...r.settings, extra: undefined }, {
      type: 'SGD', maxIter: null, momentum: 0, weightDecay: 0, regularizationType: 'L2', clipGradients: null, iterSize: 1, delta: 1e-8,
      momentum2: 0.999, rmsDecay: 0.99, testInterval: 0, testIter: [], testInitialization: true, display: 0, averageLoss: 1, snapshot: 0,
      snapshotPrefix: null, snapshotAfterTrain: true, net: null, solverMode: 'GPU', deviceId: 0, randomSeed: null, extra: undefined,
    });
  });
  const bad: [string, string, RegExp, number | undefined][] = [
    ['a missing Caffe field the policy needs', 'base_lr: 0.1\nlr_policy: "step"\nstepsize: 10', /s\.prototxt:2: gamma: is required by lr_policy step/, 2],
    ['a policy Caffe does not have', 'base_lr: 0.1\nlr_policy: "cosine"', /s\.prototxt:2: lr_policy: expected a Caffe policy .*received "cosine"/, 2],
    ['no lr_policy', 'base_lr: 0.1', /s\.prototxt: lr_policy: is required/, undefined],
    ['a wrong type', 'base_lr: "fast"\nlr_policy: "fixed"', /s\.prototxt:1: base_lr: expected a number, received "fast"/, 1],
    ['an int field with a fraction', 'base_lr: 0.1\nlr_policy: "step"\ngamma: 0.1\nstepsize: 2.5', /s\.prototxt:4: stepsize: expected an integer, received 2\.5/, 4],
    ['a non-repeated field twice', 'base_lr: 0.1\nbase_lr: 0.2\nlr_policy: "fixed"', /s\.prototxt:2: base_lr: is not a repeated field but is given again \(first on line 1\)/, 2],
    ['max_lr below base_lr', 'base_lr: 1\nmax_lr: 0.5\nlr_policy: "triangular"\nstepsize: 100', /s\.prototxt:2: max_lr: expected a value >= base_lr \(1\), received 0\.5/, 2],
    ['a non-positive stepsize', 'base_lr: 0\nmax_lr: 3\nlr_policy: "triangular"\nstepsize: 0', /s\.prototxt:4: stepsize: expected a positive integer, received 0/, 4],
    ['both type and solver_type', 'base_lr: 0.1\nlr_policy: "fixed"\ntype: "SGD"\nsolver_type: SGD', /s\.prototxt:4: solver_type: .*cannot both be given/, 4],
    ['an unknown solver type', 'base_lr: 0.1\nlr_policy: "fixed"\ntype: "Lion"', /s\.prototxt:3: type: expected one of SGD\|Nesterov/, 3],
    ['a bad enum', 'base_lr: 0.1\nlr_policy: "fixed"\nsolver_mode: TPU', /s\.prototxt:3: solver_mode: expected one of CPU\|GPU, received "TPU"/, 3],
  ];
  for (const [name, text, re, line] of bad) {
    test(`bad solver: ${name}`, () => { fails(() => parseSolver(text, 's.prototxt'), re, line); });
  }
  test('fields the policy does not use are noted, not refused', () => {
    const r = parseSolver('base_lr: 0.1\nlr_policy: "fixed"\ngamma: 0.5\nmax_iter: 100', 's.prototxt');
    assert.deepEqual(r.issues.map((i) => [i.code, i.path, i.line]), [['ignored_field', 'gamma', 3]]);
  });
  test('a missing file is one line naming it', () => {
    fails(() => readSolver('/no/such/solver.prototxt'), /^\/no\/such\/solver\.prototxt: no such file$/);
  });
});
