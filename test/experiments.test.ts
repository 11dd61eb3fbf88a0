/**
 * Experiments end to end on small MNIST subsets (resnet8, width 0.5, tens of iterations): range
 * test (accuracy rising then falling; isolation between tests), interpolation (exact endpoints,
 * BN policies, all pairs) and the CLR-vs-baseline comparison.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runRangeTest, runRangeTests, type RangeTestConfig } from '../src/experiments/range-test.js';
import type { Hooks } from '../src/train/hooks.js';
import type { LosstopoError } from '../src/errors.js';
import { prepareEvalSets, runAllPairs, runInterpolation } from '../src/experiments/interpolation.js';
import { runCompare } from '../src/experiments/compare.js';
import { train } from '../src/train/trainer.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { evaluate } from '../src/train/evaluate.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { buildModel } from '../src/models/registry.js';
import { BatchLoader, makeBatchSpec } from '../src/data/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const small = { dataset: 'mnist', model: 'resnet8', widthMult: 0.5, batch: 32, trainSize: 2000 };
const tmp = (): string => mkdtempSync(join(tmpdir(), 'losstopo-exp-'));

test('range test on MNIST: test accuracy rises from chance, then falls as the LR grows too large; the result is written', async () => {
  const dir = tmp();
  try {
    const r = await runRangeTest({ train: small, mode: 'exp', minLr: 0.01, maxLr: 100, iters: 100, evalEvery: 10, evalSize: 200 }, { out: join(dir, 'rt') });
    assert.ok(['completed', 'diverged'].includes(r.status), r.status);
    const doc = JSON.parse(readFileSync(join(dir, 'rt', 'range-test.json'), 'utf8')) as { points: { testAccuracy?: number; lr: number }[]; suggestions: Record<string, { lr: number; rule: string } | null> };
    const run = JSON.parse(readFileSync(join(dir, 'rt', 'run.json'), 'utf8')) as { kind: string };
    assert.equal(run.kind, 'range-test');
    const acc = doc.points.filter((p) => p.testAccuracy !== undefined).map((p) => p.testAccuracy!);
    const peak = Math.max(...acc);
    assert.ok(peak >= acc[0]! + 0.04, `accuracy rises: ${acc.join(' ')}`);
    assert.ok(acc[acc.length - 1]! <= peak - 0.04, `accuracy falls at the end: ${acc.join(' ')}`);
    for (const k of ['baseLr', 'maxLr', 'valley', 'steepest']) assert.ok(doc.suggestions[k]?.rule, `suggestion ${k}`);
    assert.ok(doc.suggestions.maxLr!.lr > doc.suggestions.baseLr!.lr);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('range tests are isolated: two in one process equal each other and a separate process', async () => {
  const cfg: RangeTestConfig = { train: { ...small, batch: 16, trainSize: 500 }, maxLr: 1, iters: 8, evalEvery: 4, evalSize: 100 };
  const a = await runRangeTest(cfg);
  const b = await runRangeTest(cfg);
  assert.deepEqual(b.points, a.points);
  const dir = tmp();
  try {
    const file = join(dir, 'child.mts');
    writeFileSync(file, `import { runRangeTest } from ${JSON.stringify(join(root, 'src/experiments/range-test.ts'))};
const r = await runRangeTest(${JSON.stringify(cfg)}); process.stdout.write(JSON.stringify(r.points));`);
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    assert.deepEqual(JSON.parse(out), JSON.parse(JSON.stringify(a.points)));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a range test killed midway resumes from its last snapshot and ends exactly as an uninterrupted one', async () => {
  const cfg: RangeTestConfig = { train: { ...small, batch: 16, trainSize: 500 }, maxLr: 1, iters: 24, evalEvery: 5, evalSize: 100, snapshot: 8, stopOnDivergence: true };
  const dir = tmp();
  try {
    const whole = await runRangeTest(cfg, { out: join(dir, 'whole') });
    const ac = new AbortController();
    const stopAt: Hooks = { onStepEnd: (l) => { if (l.iter === 19) ac.abort(); } };
    const cut = await runRangeTest(cfg, { out: join(dir, 'rt', 'resnet8'), signal: ac.signal, hooks: [stopAt] });
    assert.equal(cut.status, 'interrupted');
    // As after SIGKILL: the interruption's own checkpoint (at 20) is gone; the snapshot at 16 is left.
    const ck = join(dir, 'rt', 'resnet8', 'checkpoints');
    for (const f of readdirSync(ck)) if (f.startsWith('iter-20')) rmSync(join(ck, f), { recursive: true });
    const [r, ...more] = await runRangeTests(['resnet8'], cfg, { out: join(dir, 'rt'), continueUnfinished: true });
    assert.equal(more.length, 0);
    assert.equal(r!.status, 'completed');
    assert.deepEqual(r!.points, whole.points);
    assert.deepEqual(r!.suggestions, whole.suggestions);
    for (const f of ['range-test.json', 'metrics.jsonl']) assert.equal(readFileSync(join(dir, 'rt', 'resnet8', f), 'utf8'), readFileSync(join(dir, 'whole', f), 'utf8'), f);
    assert.deepEqual(await runRangeTests(['resnet8'], cfg, { out: join(dir, 'rt'), continueUnfinished: true }), [], 'a completed test is not run again');
    // A changed configuration is refused, naming the field.
    await assert.rejects(runRangeTest({ ...cfg, maxLr: 2 }, { resume: join(dir, 'rt', 'resnet8') }), (e: LosstopoError) => /run.json: schedule: differs/.test(e.format()));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('interpolation: exact endpoints with bn interpolate, deterministic and distinct BN policies, all pairs', async () => {
  const dir = tmp();
  try {
    const run = join(dir, 'run');
    const cfg = resolveTrainConfig({ ...small, trainSize: 500, testSize: 200, maxIter: 10, snapshot: 5, testInterval: 0, schedule: { policy: 'fixed', baseLr: 0.05 } });
    await train(cfg, { out: run });
    const A = join(run, 'checkpoints', 'iter-5.safetensors'), B = join(run, 'checkpoints', 'iter-10.safetensors');
    const base = { from: A, to: B, trainSize: 200 };
    const r = await runInterpolation({ ...base, alphas: [0, 1] }, { out: join(dir, 'interp') });
    // alpha 0 and 1 are the endpoints, evaluated exactly as `evaluate` does
    const ckA = loadCheckpoint(A);
    const sets = await prepareEvalSets(ckA.meta.data, {}, 200);
    for (const [alpha, file] of [[0, A], [1, B]] as const) {
      const ck = loadCheckpoint(file);
      const m = buildModel(ck.meta.model, 7);
      m.loadStateDict(ck.state);
      for (const t of ck.state.values()) t.dispose();
      for (const split of ['train', 'test'] as const) {
        const set = sets[split];
        const e = evaluate(m, new BatchLoader(makeBatchSpec(set, sets.data.transforms.eval, { batchSize: 500, train: false, labelType: 'int64' })), set);
        const p = r.points.find((q) => q.alpha === alpha && q.split === split)!;
        assert.equal(p.loss, e.loss, `alpha ${alpha} ${split} loss`);
        assert.equal(p.accuracy, e.accuracy);
      }
      m.dispose();
    }
    for (const t of ckA.state.values()) t.dispose();
    const lines = readFileSync(join(dir, 'interp', 'interpolation.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { alpha: number; split: string });
    assert.deepEqual(lines.map((l) => `${l.alpha}/${l.split}`), ['0/train', '0/test', '1/train', '1/test']);
    assert.equal((JSON.parse(readFileSync(join(dir, 'interp', 'run.json'), 'utf8')) as { kind: string }).kind, 'interpolation');
    // BN policies: each deterministic, all different at the midpoint
    const mid = async (bn: 'interpolate' | 'recompute' | 'train'): Promise<number> => (await runInterpolation({ ...base, alphas: [0.5], bn })).points.find((p) => p.split === 'test')!.loss;
    const losses = [];
    for (const bn of ['interpolate', 'recompute', 'train'] as const) {
      const x = await mid(bn), y = await mid(bn);
      assert.equal(x, y, `${bn} is deterministic`);
      losses.push(x);
    }
    assert.equal(new Set(losses).size, 3, `policies differ: ${losses.join(' ')}`);
    // every pair of the run's checkpoints
    const ap = await runAllPairs({ runDir: run, alphas: [0, 0.5, 1], trainSize: 200 }, { out: join(dir, 'pairs') });
    assert.deepEqual(ap.labels, ['iter-5', 'iter-10']);
    assert.equal(ap.barrier[0]![0], 0);
    assert.equal(ap.barrier[0]![1], ap.barrier[1]![0]);
    const doc = JSON.parse(readFileSync(join(dir, 'pairs', 'all-pairs.json'), 'utf8')) as { labels: string[]; barrier: number[][] };
    assert.deepEqual(doc.barrier, ap.barrier);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('compare: both sub-runs, cycle-end snapshots of the CLR run, iterations to target', async () => {
  const dir = tmp();
  try {
    const r = await runCompare({
      train: { ...small, trainSize: 500, testSize: 100, testInterval: 4 },
      clr: { baseLr: 0.01, maxLr: 0.1, stepsize: 3, iters: 12 },
      baseline: { lr: 0.05, stepvalue: [6, 9], iters: 8 },
      target: 0,
    }, { out: dir });
    for (const arm of [r.clr, r.baseline]) {
      assert.equal(arm.status, 'completed');
      assert.equal(arm.itersToTarget, 0, 'target 0 is reached at the first evaluation');
      assert.ok(existsSync(join(arm.runDir!, 'run.json')));
      assert.ok(arm.finalTestAccuracy !== null && arm.bestTestAccuracy !== null);
    }
    assert.equal(r.clr.iterations, 12);
    assert.equal(r.baseline.iterations, 8);
    assert.ok(existsSync(join(dir, 'clr', 'checkpoints', 'iter-6.safetensors')) && existsSync(join(dir, 'clr', 'checkpoints', 'iter-12.safetensors')));
    const doc = JSON.parse(readFileSync(join(dir, 'compare.json'), 'utf8')) as { clr: { itersToTarget: number }; baseline: { itersToTarget: number } };
    assert.equal(doc.clr.itersToTarget, 0);
    assert.equal((JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { kind: string }).kind, 'compare');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
