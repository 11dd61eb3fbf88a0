import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import report from '../src/cli/commands/report.js';
import type { CommandIO } from '../src/cli/command.js';
import { LosstopoError } from '../src/errors.js';
import { pngSize } from '../src/report/render.js';
import { caffeLogText, tempDir, writeCompare, writeInterpolation, writeRangeTest, writeTrainRun } from './fixtures/report/make.js';

async function run(argv: string[]): Promise<{ code: number; docs: unknown[]; out: string[]; err: string[] }> {
  const docs: unknown[] = []; const out: string[] = []; const err: string[] = [];
  const io: CommandIO = { json: (d) => docs.push(JSON.parse(JSON.stringify(d))), out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await report.run(argv, io);
  return { code, docs, out, err };
}

async function fails(argv: string[]): Promise<LosstopoError> {
  try { await run(argv); } catch (e) { if (e instanceof LosstopoError) return e; throw e; }
  assert.fail('expected a LosstopoError');
}

describe('losstopo report', () => {
  it('--json: index.html, an SVG and a PNG per figure, key numbers, no external URLs', async () => {
    const t = tempDir();
    try {
      const a = writeTrainRun(join(t.dir, 'runs', 'clr'), { iters: 600, evalEvery: 50, finalAcc: 0.93 });
      const b = writeTrainRun(join(t.dir, 'runs', 'step'), { iters: 600, evalEvery: 50, policy: 'multistep', baseLr: 0.35, finalAcc: 0.85, name: 'step 0.35' });
      const ip = writeInterpolation(join(t.dir, 'runs', 'ip'), { barrier: 1.5, name: 'CLR solutions' });
      writeFileSync(join(t.dir, 'a.log'), caffeLogText({ iters: 600, every: 50 }));
      writeFileSync(join(t.dir, 'b.log'), caffeLogText({ iters: 600, every: 50, maxLr: 1 }));
      const out = join(t.dir, 'rep');
      const { code, docs } = await run([a, b, ip, '--out', out, '--target', '0.8', '--caffe-log', join(t.dir, 'a.log'), `--caffe-log=${join(t.dir, 'b.log')}`, '--png-width', '500', '--json']);
      assert.equal(code, 0);
      assert.equal(docs.length, 1);
      const doc = docs[0] as { out: string; index: string; figures: string[] };
      assert.deepEqual(Object.keys(doc), ['out', 'index', 'figures']);
      assert.equal(doc.out, out);
      assert.equal(doc.index, join(out, 'index.html'));
      const ids = ['test-accuracy', 'loss', 'lr-schedule', 'interpolation'];
      assert.deepEqual(doc.figures, ids.flatMap((id) => [join(out, `${id}.svg`), join(out, `${id}.png`)]));
      for (const f of doc.figures) assert.ok(existsSync(f), f);
      for (const f of doc.figures.filter((x) => x.endsWith('.png'))) assert.equal(pngSize(readFileSync(f)).width, 500);
      const html = readFileSync(doc.index, 'utf8');
      for (const id of ids) assert.ok(html.includes(`src="${id}.svg"`), id);
      // Opens without a server: no scripts, nothing fetched from elsewhere.
      assert.doesNotMatch(html, /<script/i);
      assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i);
      assert.doesNotMatch(html, /url\(/i);
      // Key numbers. CLR: accuracy 0.1 + 0.83 (1 - e^(-i/250)), 600 at the end; >= 0.8 from
      // i = 250 ln(0.83/0.13) = 463.6, so the evaluation at 500. Step: 0.1 + 0.75 (...) needs
      // i >= 677, beyond the run.
      const fin = 0.1 + 0.83 * (1 - Math.exp(-600 / 250));
      assert.ok(html.includes(`${(fin * 100).toFixed(2)}% @ 600`), 'final test accuracy of the CLR run');
      assert.ok(html.includes('Iters to 80.00%'));
      const row = (label: string): string => html.split('\n').find((l) => l.startsWith('<tr>') && l.includes(`${label}</td>`)) ?? '';
      assert.match(row('resnet56 triangular 0.1-1.0'), /<td class="num">500<\/td>/);
      assert.match(row('step 0.35'), /not reached/);
      assert.ok(html.includes('Barrier (train / test)'));
      assert.ok(html.includes('caffe: a') && html.includes('caffe: b') && html.includes('(Caffe log)'));
      assert.ok(html.includes('&quot;policy&quot;: &quot;multistep&quot;'), 'configurations are shown');
      const rj = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { generator: string; runs: { label: string; summary: { interpolation: { train: { barrier: number } } | null } }[] };
      assert.equal(rj.generator, 'losstopo report');
      assert.deepEqual(rj.runs.map((r) => r.label), ['resnet56 triangular 0.1-1.0', 'step 0.35', 'CLR solutions', 'caffe: a', 'caffe: b']);
      assert.ok(rj.runs[2]!.summary.interpolation!.train.barrier > 1);
      // No temporary folders left beside it.
      assert.deepEqual(readdirSync(t.dir).filter((n) => n.startsWith('.')), []);
    } finally { t.done(); }
  });

  it('range tests; an earlier report is replaced; human output names index.html', async () => {
    const t = tempDir();
    try {
      const r1 = writeRangeTest(join(t.dir, 'rt56'), { iters: 100 });
      const r2 = writeRangeTest(join(t.dir, 'rt20'), { iters: 100, model: 'resnet20' });
      const out = join(t.dir, 'rep');
      mkdirSync(out);
      const first = await run([r1, '--out', out, '--json']);
      assert.equal(first.code, 0);
      writeFileSync(join(out, 'stale.txt'), 'old');
      const { code, out: lines } = await run([r1, r2, '--out', out]);
      assert.equal(code, 0);
      assert.equal(lines[0], `report: ${join(out, 'index.html')}`);
      assert.ok(!existsSync(join(out, 'stale.txt')), 'the earlier report was replaced as a whole');
      assert.ok(existsSync(join(out, 'range-test-accuracy.svg')) && existsSync(join(out, 'range-test-loss.png')));
      const html = readFileSync(join(out, 'index.html'), 'utf8');
      assert.ok(html.includes('Range-test suggestions') && html.includes('baseLr 0.05, maxLr 0.8, steepest 0.2'));
    } finally { t.done(); }
  });

  it('a compare folder stands for the runs inside it', async () => {
    const t = tempDir();
    try {
      const cmp = writeCompare(join(t.dir, 'cmp'));
      const ip = writeInterpolation(join(t.dir, 'ip'));
      const out = join(t.dir, 'rep');
      const { docs } = await run([cmp, ip, '--out', out, '--json']);
      assert.ok((docs[0] as { figures: string[] }).figures.includes(join(out, 'test-accuracy.svg')));
      const rj = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { runs: { label: string; path: string }[] };
      assert.deepEqual(rj.runs.map((r) => r.label), ['resnet56 multistep 0.35', 'resnet56 triangular 0.1-1.0', 'resnet56 interpolation iter-20000↔iter-40000']);
      assert.deepEqual(rj.runs.map((r) => r.path), [join(cmp, 'baseline'), join(cmp, 'clr'), ip]);
    } finally { t.done(); }
  });

  it('a bad run folder fails with file and line, and leaves no report and no temporary folder', async () => {
    const t = tempDir();
    try {
      const good = writeTrainRun(join(t.dir, 'good'), { iters: 20 });
      const bad = writeTrainRun(join(t.dir, 'bad'), { iters: 20 });
      writeFileSync(join(bad, 'metrics.jsonl'), readFileSync(join(bad, 'metrics.jsonl'), 'utf8').replace(/\n/, '\n{oops}\n'));
      const out = join(t.dir, 'rep');
      const e = await fails([good, bad, '--out', out]);
      assert.equal(e.info.file, join(bad, 'metrics.jsonl'));
      assert.equal(e.info.line, 2);
      assert.ok(!existsSync(out));
      assert.deepEqual(readdirSync(t.dir).sort(), ['bad', 'good']);
    } finally { t.done(); }
  });

  it('refuses a non-empty folder that is not a report; checks its arguments', async () => {
    const t = tempDir();
    try {
      const good = writeTrainRun(join(t.dir, 'good'), { iters: 20 });
      // Pointing --out at a run folder must not wipe it.
      const e = await fails([good, '--out', good]);
      assert.match(e.message, /not a losstopo report/);
      assert.ok(existsSync(join(good, 'metrics.jsonl')));
      assert.match((await fails(['--out', join(t.dir, 'x')])).message, /missing/);
      assert.equal((await fails([good, '--out', join(t.dir, 'x'), '--target', '90'])).info.path, '--target');
      assert.equal((await fails([good, '--out', join(t.dir, 'x'), '--caffe-log'])).info.path, '--caffe-log');
      assert.equal((await fails([good, '--out', join(t.dir, 'x'), '--caffe-log', join(t.dir, 'none.log')])).info.code, 'missing_file');
      assert.equal((await fails([join(t.dir, 'nope'), '--out', join(t.dir, 'x')])).info.code, 'missing_file');
      const help = await run(['--help']);
      assert.ok(help.out[0]!.includes('losstopo report RUN_DIR... --out DIR'));
    } finally { t.done(); }
  });
});
