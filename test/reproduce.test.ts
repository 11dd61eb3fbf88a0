import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoPlan, figureIds, plan, scales, type Step } from '../src/reproduce/presets.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { scheduleFromConfig } from '../src/schedules/index.js';
import { resolveCompare } from '../src/experiments/compare.js';
import { resolveRangeTest } from '../src/experiments/range-test.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCaffeLog } from '../src/caffe/log.js';
import { isCaffeRangeTest } from '../src/report/figures.js';

/** Iterations at which a step's run writes checkpoints (every snapshot, and the end). */
function checkpointsOf(step: Step): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  if (step.kind === 'train') {
    const c = resolveTrainConfig(step.config);
    const s = new Set<number>([c.maxIter]);
    if (c.snapshot > 0) for (let i = c.snapshot; i < c.maxIter; i += c.snapshot) s.add(i);
    out.set(step.dir, s);
  } else if (step.kind === 'compare') {
    const r = resolveCompare({ train: step.train, clr: { policy: 'triangular', ...step.clr }, baseline: step.baseline, target: step.target });
    for (const [name, c] of [['clr', r.clr], ['baseline', r.baseline]] as const) {
      const s = new Set<number>([c.maxIter]);
      if (c.snapshot > 0) for (let i = c.snapshot; i < c.maxIter; i += c.snapshot) s.add(i);
      out.set(`${step.dir}/${name}`, s);
    }
  }
  return out;
}

for (const scale of scales) {
  test(`${scale} scale: every step resolves, and every interpolation names checkpoints its runs write`, () => {
    const plans = scale === 'demo' ? [...plan('demo', figureIds), ...demoPlan(), ...demoPlan('/data')] : plan(scale, figureIds, '/data');
    // Steps may use checkpoints of runs an earlier figure made (the demo interpolates compare's runs).
    const written = new Map<string, Set<number>>();
    for (const p of plans) {
      for (const step of p.steps) {
        for (const [k, v] of checkpointsOf(step)) written.set(k, v);
        if (step.kind === 'range-test') for (const m of step.models) resolveRangeTest({ train: { ...step.train, model: m }, minLr: step.minLr, maxLr: step.maxLr, iters: step.iters });
        if (step.kind === 'interpolate') {
          for (const end of [step.from, step.to]) {
            assert.ok(written.get(end.run)?.has(end.iter), `${p.id}: ${end.run} writes no checkpoint at ${end.iter} (writes ${[...(written.get(end.run) ?? [])].join(', ')})`);
          }
        }
      }
    }
  });
}

test('the cpu scale keeps the paper\'s shapes: one CLR cycle is shorter than the baseline, drops in order', () => {
  const [fig2b] = plan('cpu', ['fig2b'], '/data');
  const step = fig2b!.steps[0]!;
  assert.equal(step.kind, 'compare');
  if (step.kind !== 'compare') return;
  assert.equal(step.clr.iters, 2 * step.clr.stepsize);
  assert.ok(step.clr.iters <= step.baseline.iters / 2, 'one cycle has at most half the baseline iterations');
  assert.deepEqual([...step.baseline.stepvalue].sort((a, b) => a - b), step.baseline.stepvalue);
  assert.ok(step.baseline.stepvalue.every((v) => v < step.baseline.iters));
  // The annealed arm: the same cycle (0.1 -> 1.0 -> 0.1) in 90% of the CLR iterations, then down to 1e-4.
  const annealed = fig2b!.steps[1]!;
  assert.equal(annealed.kind, 'train');
  if (annealed.kind !== 'train') return;
  const c = resolveTrainConfig(annealed.config);
  assert.equal(c.maxIter, step.clr.iters);
  const sched = scheduleFromConfig(c.schedule);
  const lr = (i: number): number => sched(i).lr;
  const n = step.clr.iters;
  assert.ok(Math.abs(lr(0) - 0.1) < 1e-9 && Math.abs(lr(Math.round(0.45 * n)) - 1.0) < 0.01 && Math.abs(lr(Math.round(0.9 * n)) - 0.1) < 0.01, `${lr(0)} ${lr(0.45 * n)} ${lr(0.9 * n)}`);
  assert.ok(lr(n - 1) <= 1e-4 + 1e-9, `ends annealed: ${lr(n - 1)}`);
  assert.deepEqual(fig2b!.report, ['fig2b', 'fig2b-annealed']);
});

const authorsLogs = fileURLToPath(new URL('../../shared/reference/caffe-logs', import.meta.url));
test('every authors\' log a figure overlays exists, and a range-test figure overlays only range tests', { skip: existsSync(authorsLogs) ? false : `the authors' logs are not at ${authorsLogs}` }, () => {
  for (const scale of scales) {
    for (const p of plan(scale, figureIds, '/data')) {
      for (const f of p.overlays) {
        const file = join(authorsLogs, f);
        assert.ok(existsSync(file), `${scale} ${p.id}: ${f} exists`);
        if (p.id === 'fig1b') assert.ok(isCaffeRangeTest(readCaffeLog(file).log.solver), `${f} is a range test`);
      }
    }
  }
});
