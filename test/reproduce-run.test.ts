/**
 * `reproduce` end to end on a tiny plan (MNIST, resnet8 at half width, tens of iterations): every
 * kind of step runs into its folder, each figure gets its own report (the authors' log it names
 * overlaid) and the overview links them; a rerun skips everything done; an interrupted range test
 * is continued from its snapshot to the same result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describePlan, reproduce } from '../src/reproduce/run.js';
import type { FigurePlan } from '../src/reproduce/presets.js';
import { RunStore } from '../src/train/runstore.js';

const fixtures = fileURLToPath(new URL('./fixtures/caffe', import.meta.url));
const train = { dataset: 'mnist', model: 'resnet8', widthMult: 0.5, batch: 32, trainSize: 500, testSize: 200, threads: 2 };
const plans: FigurePlan[] = [
  {
    id: 'fig1b', title: 'range test', expect: 'a rise', report: ['range/resnet8'], overlays: ['diverged-log.txt', 'absent.log'],
    steps: [{ kind: 'range-test', dir: 'range', models: ['resnet8'], train, minLr: 0.001, maxLr: 1, iters: 20, evalEvery: 5, evalSize: 100, snapshot: 10 }],
  },
  {
    id: 'fig2b', title: 'compare', expect: 'CLR ahead', report: ['compare'], overlays: [],
    steps: [{ kind: 'compare', dir: 'compare', train: { ...train, testInterval: 10 }, clr: { baseLr: 0.1, maxLr: 1, stepsize: 10, iters: 20 }, baseline: { lr: 0.35, stepvalue: [20, 30], iters: 40 }, target: 0.5 }],
  },
  {
    id: 'fig1a', title: 'standard training', expect: 'a climb', report: ['std'], overlays: [],
    steps: [{ kind: 'train', dir: 'std', config: { ...train, schedule: { policy: 'multistep', baseLr: 0.1, gamma: 0.1, stepvalue: [15] }, maxIter: 20, testInterval: 10, snapshot: 10 } }],
  },
  {
    id: 'fig3b', title: 'interpolation', expect: 'a barrier', report: ['interp'], overlays: [],
    steps: [{ kind: 'interpolate', dir: 'interp', from: { run: 'compare/clr', iter: 20 }, to: { run: 'compare/baseline', iter: 40 }, alphas: { start: 0, stop: 1, step: 0.5 }, trainSize: 100, testSize: 100 }],
  },
];

test('reproduce: steps into folders, a report per figure with its overlay, an overview; reruns skip; interrupted range test, training run and comparison continue', async () => {
  const out = mkdtempSync(join(tmpdir(), 'losstopo-repro-'));
  try {
    const planned = describePlan(plans, out);
    assert.deepEqual(planned.map((x) => [x.dir, x.kind, x.iterations, x.images, x.state]), [
      ['range/resnet8', 'range-test', 20, 20 * 32, 'to run'], ['compare', 'compare', 60, 60 * 32, 'to run'],
      ['std', 'train', 20, 20 * 32, 'to run'], ['interp', 'interpolate', 3, 3 * 200, 'to run']]);
    const lines: string[] = [];
    const r = await reproduce(plans, { out, quiet: true, caffeLogDir: fixtures, log: (l) => lines.push(l) });
    for (const d of ['range/resnet8', 'compare', 'compare/clr', 'compare/baseline', 'std', 'interp']) assert.equal(RunStore.readRecord(join(out, d)).status, 'completed', d);
    assert.ok(lines.some((l) => l.includes('absent.log not found')), 'a named log that is missing is reported');
    assert.deepEqual(describePlan(plans, out).map((x) => x.state), ['done', 'done', 'done', 'done']);

    // Each figure's report; the range test's overlays the authors' log it names.
    for (const p of plans) assert.ok(existsSync(r.reports[p.id]!), p.id);
    const rangeReport = JSON.parse(readFileSync(join(dirname(r.reports.fig1b!), 'report.json'), 'utf8')) as { runs: { source: string }[]; figures: { id: string }[] };
    assert.deepEqual(rangeReport.runs.map((x) => x.source), ['losstopo', 'caffe']);
    assert.ok(rangeReport.figures.some((f) => f.id === 'range-test-accuracy'));
    const interp = JSON.parse(readFileSync(join(dirname(r.reports.fig3b!), 'report.json'), 'utf8')) as { figures: { id: string }[] };
    assert.ok(interp.figures.some((f) => f.id.startsWith('interpolation')), JSON.stringify(interp.figures));

    // The overview links every figure's report and shows its pictures, all files that exist.
    assert.equal(r.index, join(out, 'report', 'index.html'));
    const html = readFileSync(r.index, 'utf8');
    const refs = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]!);
    for (const p of plans) assert.ok(refs.includes(`${p.id}/index.html`), p.id);
    assert.ok(refs.filter((f) => f.endsWith('.png')).length >= plans.length);
    for (const f of refs) assert.ok(existsSync(join(out, 'report', f)), `overview links ${f}, which exists`);
    assert.match(html, /Look for:<\/b> CLR ahead/);

    // A rerun does no work.
    const again: string[] = [];
    await reproduce(plans, { out, quiet: true, log: (l) => again.push(l) });
    assert.equal(again.filter((l) => / skip /.test(l)).length, 4, again.join('\n'));
    assert.ok(again.some((l) => l.startsWith('[4/4] ')), 'steps are counted');

    // A range test and a training run killed after their snapshots at 10 (no later checkpoint) are
    // continued, to the same results.
    // So is a comparison whose baseline was killed after its snapshot at 36 (its CLR arm completed).
    const rt = join(out, 'range', 'resnet8'), std = join(out, 'std'), cmp = join(out, 'compare');
    const results = (): string[] => [join(rt, 'range-test.json'), join(std, 'metrics.jsonl'), join(cmp, 'compare.json'), join(cmp, 'baseline', 'metrics.jsonl')].map((f) => readFileSync(f, 'utf8'));
    const before = results();
    const kill = (d: string, lastIter: number): void => {
      const ck = join(d, 'checkpoints');
      for (const f of readdirSync(ck)) if (f.startsWith(`iter-${lastIter}.`)) rmSync(join(ck, f), { recursive: true });
      RunStore.reopen(d, Number.MAX_SAFE_INTEGER).close(); // marks it running again, as a killed run leaves it
    };
    kill(rt, 20); kill(std, 20); kill(join(cmp, 'baseline'), 40); RunStore.reopen(cmp, Number.MAX_SAFE_INTEGER).close();
    const third: string[] = [];
    await reproduce(plans.slice(0, 3), { out, quiet: true, log: (l) => third.push(l) });
    assert.ok(third.some((l) => l.includes('resnet8 (resumed)')), third.join('\n'));
    assert.ok(third.some((l) => l.includes('train std (resumed)')), third.join('\n'));
    assert.ok(third.some((l) => l.includes('compare compare (resumed)')), third.join('\n'));
    for (const d of [rt, std, cmp, join(cmp, 'baseline')]) assert.equal(RunStore.readRecord(d).status, 'completed', d);
    assert.deepEqual(results(), before);
  } finally { rmSync(out, { recursive: true, force: true }); }
});
