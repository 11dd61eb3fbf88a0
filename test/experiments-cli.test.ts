/**
 * The experiment commands as a user runs them (tiny MNIST runs): range-test with --models (one
 * test per depth) and with --stop-on-divergence, and compare with a one-cycle arm; both continue
 * with --resume after a kill, to the results of an uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './helpers/cli.js';
import { RunStore } from '../src/train/runstore.js';

const tiny = ['--dataset', 'mnist', '--width-mult', '0.5', '--train-size', '500', '--batch', '16', '--quiet'];
const tmp = (): string => mkdtempSync(join(tmpdir(), 'losstopo-expcli-'));

test('range-test --models: one test per depth into OUT/<model>, summarised in one JSON document', () => {
  const dir = tmp();
  try {
    const r = cli(['range-test', ...tiny, '--models', 'resnet8,resnet14', '--iters', '10', '--eval-every', '5', '--eval-size', '100', '--out', dir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { runs: { model: string; status: string; runDir: string }[] };
    assert.deepEqual(doc.runs.map((x) => [x.model, x.status, x.runDir]), [['resnet8', 'completed', join(dir, 'resnet8')], ['resnet14', 'completed', join(dir, 'resnet14')]]);
    for (const m of ['resnet8', 'resnet14']) {
      const rt = JSON.parse(readFileSync(join(dir, m, 'range-test.json'), 'utf8')) as { model: { depth?: number; name?: string } | string; points: unknown[] };
      assert.equal(rt.points.length, 11, `${m}: 10 steps and the final evaluation`);
      assert.match(JSON.stringify(rt.model), m === 'resnet8' ? /8/ : /14/);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('range-test --stop-on-divergence: an exponential sweep to LR 1e4 stops early with its reason, the points so far kept', () => {
  const dir = tmp();
  try {
    const r = cli(['range-test', ...tiny, '--model', 'resnet8', '--mode', 'exp', '--min-lr', '0.01', '--max-lr', '10000', '--iters', '200', '--eval-every', '50', '--eval-size', '100', '--stop-on-divergence', '--out', join(dir, 'rt'), '--json']);
    assert.ok(r.code === 0 || r.code === 3, `exit ${r.code}: ${r.stderr}`);
    const rt = JSON.parse(readFileSync(join(dir, 'rt', 'range-test.json'), 'utf8')) as { stopReason?: string; points: { lr: number }[] };
    if (r.code === 0) assert.match(rt.stopReason ?? '', /stop on divergence/);
    assert.ok(rt.points.length < 200, `stopped before the end: ${rt.points.length} points`);
    assert.ok(rt.points.length > 20, 'the points before the stop are kept');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('compare --clr-policy one_cycle: both arms train, the one-cycle arm follows its schedule, compare.json has both', () => {
  const dir = tmp();
  try {
    const r = cli(['compare', ...tiny, '--model', 'resnet8', '--clr-policy', 'one_cycle', '--clr-max-lr', '0.5', '--clr-stepsize', '10', '--clr-iters', '20',
      '--baseline-lr', '0.1', '--baseline-stepvalue', '20,30', '--baseline-iters', '40', '--test-interval', '10', '--test-size', '200', '--target', '0.3', '--out', dir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(readFileSync(join(dir, 'compare.json'), 'utf8')) as { clr: { status: string; iterations: number }; baseline: { status: string; iterations: number } };
    assert.deepEqual([c.clr.status, c.clr.iterations, c.baseline.status, c.baseline.iterations], ['completed', 20, 'completed', 40]);
    const lrs = readFileSync(join(dir, 'clr', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { lr?: number }).filter((x) => x.lr !== undefined).map((x) => x.lr!);
    const peak = Math.max(...lrs);
    assert.ok(Math.abs(peak - 0.5) < 0.05, `one-cycle peaks near max LR: ${peak}`);
    assert.ok(lrs[0]! < peak / 5 && lrs[lrs.length - 1]! < lrs[0]!, `starts low, ends lower: ${lrs[0]} .. ${lrs[lrs.length - 1]}`);
    assert.ok(existsSync(join(dir, 'baseline', 'run.json')));
    const ck = readdirSync(join(dir, 'clr', 'checkpoints')).filter((f) => !f.includes('.state.')).map((f) => Number(/^iter-(\d+)/.exec(f)?.[1])).sort((x, y) => x - y);
    assert.deepEqual(ck, [2, 4, 6, 8, 10, 12, 14, 16, 18, 20], 'the one-cycle arm snapshots every tenth, so a killed one can resume');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

/** What a kill after the checkpoint at `keep` leaves: later checkpoints gone, the run marked running. */
function killAfter(dir: string, keep: number): void {
  const ck = join(dir, 'checkpoints');
  for (const f of readdirSync(ck)) if (Number(/^iter-(\d+)/.exec(f)?.[1]) > keep) rmSync(join(ck, f), { recursive: true });
  RunStore.reopen(dir, Number.MAX_SAFE_INTEGER).close();
}

test('range-test --resume: a test killed after its checkpoint continues to the same points; a changed flag or an ended test is refused', () => {
  const dir = tmp();
  try {
    const args = ['range-test', ...tiny, '--model', 'resnet8', '--iters', '20', '--eval-every', '5', '--eval-size', '100'];
    const rt = join(dir, 'rt');
    assert.equal(cli([...args, '--out', rt]).code, 0);
    const before = readFileSync(join(rt, 'range-test.json'), 'utf8');
    assert.ok(existsSync(join(rt, 'checkpoints')) && readdirSync(join(rt, 'checkpoints')).some((f) => f.startsWith('iter-8')), 'checkpoints every fifth of the sweep by default');
    const ended = cli([...args, '--resume', rt]);
    assert.equal(ended.code, 2);
    assert.match(ended.stderr, /--resume.*ended \(completed\)/);
    killAfter(rt, 8);
    const changed = cli([...args, '--max-lr', '2', '--resume', rt]);
    assert.notEqual(changed.code, 0);
    assert.match(changed.stderr, /run\.json.*schedule.*differs/);
    const r = cli([...args, '--resume', rt]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(rt, 'range-test.json'), 'utf8'), before);
    assert.equal(RunStore.readRecord(rt).status, 'completed');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('compare --resume: a baseline killed after its checkpoint continues (the CLR arm kept) to the same compare.json; other settings are refused', () => {
  const dir = tmp();
  try {
    const args = ['compare', ...tiny, '--model', 'resnet8', '--clr-stepsize', '10', '--clr-iters', '20', '--baseline-lr', '0.1', '--baseline-stepvalue', '20,30',
      '--baseline-iters', '40', '--test-interval', '10', '--test-size', '200', '--target', '0.3'];
    assert.equal(cli([...args, '--out', dir]).code, 0);
    const before = readFileSync(join(dir, 'compare.json'), 'utf8');
    killAfter(join(dir, 'baseline'), 20);
    RunStore.reopen(dir, Number.MAX_SAFE_INTEGER).close();
    const changed = cli([...args, '--baseline-iters', '50', '--resume', dir]);
    assert.notEqual(changed.code, 0);
    assert.match(changed.stderr, /run\.json.*baseline\.maxIter.*differs/);
    assert.equal(RunStore.readRecord(dir).status, 'running', 'a refused continuation leaves the run as it was');
    const r = cli([...args, '--resume', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(dir, 'compare.json'), 'utf8'), before);
    assert.match(cli([...args, '--resume', join(dir, 'nothing')]).stderr, /--resume.*run\.json is missing/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
