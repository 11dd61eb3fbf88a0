/**
 * `losstopo schedule` end to end: spawns ./bin/losstopo, parses stdout, and checks that bad input
 * exits non-zero with one line on stderr naming the option and the value.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
function losstopo(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('./bin/losstopo', args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('losstopo schedule --json', () => {
  test('triangular with a constant momentum: exactly {policy, points[{iter, lr, momentum}]}', () => {
    const r = losstopo('schedule', '--policy', 'triangular', '--base-lr', '0.1', '--max-lr', '3', '--stepsize', '5000', '--momentum', '0.9', '--iters', '0,2500,5000,10000', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(doc), ['policy', 'points']);
    assert.equal(doc.policy, 'triangular');
    assert.deepEqual(doc.points.map((p: object) => Object.keys(p)), Array(4).fill(['iter', 'lr', 'momentum']));
    assert.deepEqual(doc.points.map((p: { iter: number }) => p.iter), [0, 2500, 5000, 10000]);
    const lrs = doc.points.map((p: { lr: number }) => p.lr);
    [0.1, 1.55, 3, 0.1].forEach((want, i) => assert.ok(Math.abs(lrs[i] - want) < 1e-12, `${lrs[i]} vs ${want}`));
    assert.ok(doc.points.every((p: { momentum: number }) => p.momentum === 0.9));
  });
  test('momentum is null where the policy does not set it; start:stop:step includes stop', () => {
    const r = losstopo('schedule', '--policy', 'multistep', '--base-lr', '0.35', '--gamma', '0.1', '--stepvalue', '50000,70000', '--iters', '0:80000:10000', '--json');
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(doc.points.map((p: { iter: number }) => p.iter), [0, 10000, 20000, 30000, 40000, 50000, 60000, 70000, 80000]);
    assert.ok(doc.points.every((p: { momentum: null }) => p.momentum === null));
    assert.ok(Math.abs(doc.points[5].lr - 0.035) < 1e-15 && Math.abs(doc.points[8].lr - 0.0035) < 1e-15);
  });
  test('PyTorch names and boolean negation: cyclic --no-cycle-momentum, one_cycle --three-phase', () => {
    const c = JSON.parse(losstopo('schedule', '--policy', 'cyclic', '--base-lr', '0.1', '--max-lr', '1', '--step-size-up', '10', '--step-size-down', '30',
      '--mode', 'triangular2', '--no-cycle-momentum', '--momentum', '0.9', '--iters', '10,40,50', '--json').stdout);
    assert.deepEqual(c.points.map((p: { lr: number }) => +p.lr.toFixed(12)), [1, 0.1, 0.55]);
    assert.ok(c.points.every((p: { momentum: number }) => p.momentum === 0.9));
    const o = JSON.parse(losstopo('schedule', '--policy', 'one_cycle', '--max-lr', '1', '--total-steps', '100', '--three-phase', '--anneal-strategy', 'linear', '--iters', '0,29,58,99', '--json').stdout);
    const want = [0.04, 1, 0.04, 0.04 / 1e4];
    o.points.forEach((p: { lr: number }, i: number) => assert.ok(Math.abs(p.lr - want[i]!) < 1e-12, `${p.lr}`));
    assert.deepEqual(o.points.map((p: { momentum: number }) => +p.momentum.toFixed(12)), [0.95, 0.85, 0.95, 0.95]);
  });
  test('range test and SGDR through the CLI', () => {
    const r = JSON.parse(losstopo('schedule', '--policy', 'range', '--base-lr', '0', '--max-lr', '3', '--max-iter', '20000', '--iters', '100,20000', '--json').stdout);
    assert.deepEqual(r.points.map((p: { lr: number }) => +p.lr.toFixed(12)), [0.015, 3]);
    const s = JSON.parse(losstopo('schedule', '--policy', 'sgdr', '--base-lr', '0.1', '--t0', '10', '--t-mult', '2', '--eta-min', '0.01', '--iters', '5,10,20', '--json').stdout);
    assert.deepEqual(s.points.map((p: { lr: number }) => +p.lr.toFixed(12)), [0.055, 0.1, 0.055]);
  });
});

describe('losstopo schedule (human output)', () => {
  test('prints a table with a header', () => {
    const r = losstopo('schedule', '--policy', 'fixed', '--base-lr', '0.01', '--iters', '0,1');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /policy fixed/);
    assert.match(lines[1]!, /iter\s+lr\s+momentum/);
    assert.match(lines[2]!, /0\s+0\.01\s+-/);
  });
  test('--help lists the policies and the options with their anchors\' names', () => {
    const r = losstopo('schedule', '--help');
    assert.equal(r.code, 0);
    for (const s of ['--step-size-up', '--pct-start', '--cycle-momentum / --no-cycle-momentum', '--stepvalue', 'one_cycle', 'fit_one_cycle', 'sgdr']) assert.ok(r.stdout.includes(s), s);
  });
});

describe('bad input: exit 2, nothing on stdout, one line on stderr naming the option and the value', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown policy suggests the closest', ['--policy', 'triangle', '--iters', '0'], /--policy: unknown policy "triangle"; did you mean triangular\?/],
    ['max below base', ['--policy', 'triangular', '--base-lr', '1', '--max-lr', '0.5', '--stepsize', '10', '--iters', '0'], /--max-lr: .*--base-lr \(1\), received 0\.5/],
    ['non-positive stepsize', ['--policy', 'step', '--base-lr', '1', '--gamma', '0.1', '--stepsize', '0', '--iters', '0'], /--stepsize: expected a positive integer, received 0/],
    ['pct_start outside (0,1)', ['--policy', 'one_cycle', '--max-lr', '1', '--total-steps', '100', '--pct-start', '1.5', '--iters', '0'], /--pct-start: .*received 1\.5/],
    ['total_steps missing', ['--policy', 'one_cycle', '--max-lr', '1', '--iters', '0'], /--total-steps: is required by policy one_cycle/],
    ['option of another policy', ['--policy', 'one_cycle', '--max-lr', '1', '--total-steps', '10', '--stepsize', '5', '--iters', '0'], /--stepsize: does not apply to policy one_cycle/],
    ['unknown flag', ['--policy', 'fixed', '--base-lr', '1', '--max-rl', '2', '--iters', '0'], /--max-rl: unknown option .*did you mean --max-lr\?/],
    ['policy missing', ['--base-lr', '1', '--iters', '0'], /--policy: expected a policy/],
    ['iters missing', ['--policy', 'fixed', '--base-lr', '1'], /--iters: is required/],
    ['bad iters', ['--policy', 'fixed', '--base-lr', '1', '--iters', '10:0'], /--iters: .*received "10:0"/],
    ['past total_steps', ['--policy', 'one_cycle', '--max-lr', '1', '--total-steps', '10', '--iters', '0,11'], /--iters: expected an iteration <= --total-steps \(10\), received 11/],
    ['--plot not an .svg', ['--policy', 'fixed', '--base-lr', '1', '--iters', '0', '--plot', 'x.png'], /--plot: expected a file name ending in \.svg/],
    ['bad enum', ['--policy', 'cyclic', '--base-lr', '0', '--max-lr', '1', '--mode', 'square', '--iters', '0'], /--mode: expected one of triangular\|triangular2\|exp_range, received "square"/],
  ];
  for (const [name, args, re] of cases) {
    test(name, () => {
      const r = losstopo('schedule', ...args, '--json');
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, re);
    });
  }
});

test('--plot writes the schedule as an SVG figure with an LR axis', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'losstopo-plot-')), 'oc.svg');
  const r = losstopo('schedule', '--policy', 'one_cycle', '--max-lr', '1', '--total-steps', '100', '--iters', '0:99:1', '--plot', file, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).points.length, 100);
  const svg = readFileSync(file, 'utf8');
  assert.match(svg, /^<svg/);
  assert.match(svg, /Learning rate/);
  assert.match(svg, /Iteration/);
});
