/**
 * Figures: spec snapshots (set LOSSTOPO_UPDATE_SNAPSHOTS=1 to rewrite them after a deliberate
 * change, then review the diff), and the rendered SVG/PNG: series, axis titles, scale types,
 * colours and PNG size.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCaffeLog } from '../src/caffe/log.js';
import { type Figure, allFigures, downsample, lossFigure, testAccuracyFigure } from '../src/report/figures.js';
import { readRun } from '../src/report/read.js';
import { pngSize, renderPng, renderSvg, svgSize } from '../src/report/render.js';
import { buildReport } from '../src/report/write.js';
import { caffeLogText, tempDir, writeInterpolation, writeRangeTest, writeTrainRun } from './fixtures/report/make.js';

const SNAP = fileURLToPath(new URL('./fixtures/report/snapshots/', import.meta.url));
const UPDATE = process.env.LOSSTOPO_UPDATE_SNAPSHOTS === '1';

interface SvgText { text: string; x: number; y: number; bold: boolean }
/** Every <text> of an SVG with its translate() position (vega writes one per label and title). */
function svgTexts(svg: string): SvgText[] {
  const out: SvgText[] = [];
  for (const m of svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)) {
    const t = /translate\(([-\d.e]+),([-\d.e]+)\)/.exec(m[1]!);
    out.push({ text: m[2]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'), x: t ? Number(t[1]) : NaN, y: t ? Number(t[2]) : NaN, bold: m[1]!.includes('font-weight="bold"') });
  }
  return out;
}
const texts = (svg: string): string[] => svgTexts(svg).map((t) => t.text);

let figures: Figure[] = [];
let t: { dir: string; done(): void };
const byId = (id: string): Figure => { const f = figures.find((x) => x.id === id); assert.ok(f, `figure ${id}`); return f; };

before(() => {
  t = tempDir();
  const runs = [
    readRun(writeTrainRun(join(t.dir, 'clr'), { iters: 200, evalEvery: 50, stepsize: 100, spikeAt: 120 })),
    readRun(writeTrainRun(join(t.dir, 'step'), { iters: 200, evalEvery: 50, policy: 'multistep', baseLr: 0.35, finalAcc: 0.8, name: 'step 0.35' })),
    readRun(writeRangeTest(join(t.dir, 'rt56'), { iters: 100 })),
    readRun(writeRangeTest(join(t.dir, 'rt20'), { iters: 100, model: 'resnet20', dip: 0.3 })),
    readRun(writeInterpolation(join(t.dir, 'ip'), { allPairs: true, name: 'CLR cycles 1-2' })),
    readRun(writeInterpolation(join(t.dir, 'ip0'), { barrier: 0, name: 'regular training' })),
  ];
  const caffe = [{ file: 'authors.log', log: parseCaffeLog(caffeLogText({ iters: 200, every: 50 }), 'authors.log').log }];
  figures = buildReport(runs, caffe, { figures: { maxPoints: 50 } }).figures;
});
after(() => t.done());

describe('figure specs (snapshots)', () => {
  it('produces the expected figures for train, range-test and interpolation runs', () => {
    assert.deepEqual(figures.map((f) => f.id), ['test-accuracy', 'loss', 'lr-schedule', 'range-test-accuracy', 'range-test-loss', 'interpolation', 'barrier-matrix']);
  });

  for (const id of ['test-accuracy', 'loss', 'lr-schedule', 'range-test-accuracy', 'range-test-loss', 'interpolation', 'barrier-matrix']) {
    it(`${id} matches its snapshot`, () => {
      const file = join(SNAP, `${id}.json`);
      const spec = JSON.parse(JSON.stringify(byId(id).spec));
      if (UPDATE) {
        mkdirSync(SNAP, { recursive: true });
        writeFileSync(file, JSON.stringify(spec, null, 1) + '\n');
        return;
      }
      assert.ok(existsSync(file), `no snapshot ${file}; run with LOSSTOPO_UPDATE_SNAPSHOTS=1 to create it`);
      assert.deepEqual(spec, JSON.parse(readFileSync(file, 'utf8')), `${id} differs from ${file} (LOSSTOPO_UPDATE_SNAPSHOTS=1 rewrites it after a deliberate change)`);
    });
  }

  it('a run keeps its colour in every figure', () => {
    const colours = new Map<string, string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) { v.forEach(walk); return; }
      if (typeof v !== 'object' || v === null) return;
      const o = v as Record<string, unknown>;
      if (o.field === 'run' && typeof o.scale === 'object' && o.scale) {
        const s = o.scale as { domain: string[]; range: string[] };
        s.domain.forEach((label, i) => {
          const prev = colours.get(label);
          assert.ok(prev === undefined || prev === s.range[i], `${label}: ${prev} vs ${s.range[i]}`);
          colours.set(label, s.range[i]!);
        });
      }
      Object.values(o).forEach(walk);
    };
    figures.forEach((f) => walk(f.spec));
    assert.ok(colours.size >= 7, `runs coloured: ${[...colours.keys()].join(', ')}`);
    assert.equal(new Set(colours.values()).size, colours.size, 'distinct colours');
  });

  it('figures with nothing to draw are left out', () => {
    assert.equal(testAccuracyFigure([]), null);
    assert.equal(lossFigure([{ label: 'x', color: '#000', source: 'losstopo', kind: 'train', train: [], evals: [] }]), null);
    assert.deepEqual(allFigures([]), []);
  });

  it('downsample: at most max points, bucket means, non-finite values skipped', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ i, v: i % 10 === 0 ? NaN : i }));
    const d = downsample(rows, 100, (r) => r.i, (r) => r.v);
    assert.equal(d.length, 100);
    // Bucket 0 holds 0..9 without 0: mean 5.
    assert.deepEqual(d[0], { x: 5, y: 5 });
    assert.equal(downsample(rows.slice(0, 5), 100, (r) => r.i, (r) => r.v).length, 4);
  });
});

describe('rendered figures', () => {
  it('test accuracy: axis titles, run and Caffe legend entries, the LR panel', async () => {
    const svg = await renderSvg(byId('test-accuracy').spec);
    const tx = texts(svg);
    for (const s of ['Iteration', 'Test accuracy (%)', 'LR', 'Run', 'resnet56 triangular 0.1-1.0', 'step 0.35', 'caffe: authors', 'Source', 'caffe (authors)']) {
      assert.ok(tx.includes(s), `missing text ${JSON.stringify(s)} in ${JSON.stringify(tx.slice(0, 40))}`);
    }
    // Range tests and interpolations are not iteration curves.
    assert.ok(!tx.includes('resnet20 range 0-1.0'));
    // Series are drawn in their colours.
    assert.ok(svg.includes('stroke="#1f77b4"') && svg.includes('stroke="#ff7f0e"'));
  });

  it('loss: a log vertical axis (decade ticks evenly spaced)', async () => {
    const svg = await renderSvg(byId('loss').spec);
    const all = svgTexts(svg);
    assert.ok(all.some((x) => x.text === 'Loss (cross-entropy, log scale)'));
    assert.ok(all.some((x) => x.text === 'training loss') && all.some((x) => x.text === 'test loss'));
    const tick = (label: string): number => {
      const found = all.find((x) => x.text === label && !x.bold && x.x < 0);
      assert.ok(found, `tick ${label} on the y axis; labels: ${all.filter((x) => x.x < 0).map((x) => x.text).join(' ')}`);
      return found.y;
    };
    // The fixture's spike takes the training loss from ~1 to ~1000 (paper Fig. 2a).
    const d1 = tick('1') - tick('10'), d2 = tick('10') - tick('100');
    assert.ok(d1 > 20, 'decades are apart');
    assert.ok(Math.abs(d1 - d2) < 1, `log spacing: 1->10 is ${d1}px, 10->100 is ${d2}px`);
    assert.ok(all.some((x) => x.text === '1,000'));
  });

  it('range test: accuracy against LR for both models; loss figure with suggestion rules', async () => {
    const svg = await renderSvg(byId('range-test-accuracy').spec);
    const tx = texts(svg);
    for (const s of ['Learning rate', 'Test accuracy (%)', 'resnet56 range 0-1.0', 'resnet20 range 0-1.0']) assert.ok(tx.includes(s), s);
    const loss = texts(await renderSvg(byId('range-test-loss').spec));
    for (const s of ['Smoothed training loss (log scale)', 'baseLr', 'maxLr', 'steepest']) assert.ok(loss.includes(s), s);
    assert.ok(!loss.includes('valley'), 'null suggestions are not drawn');
  });

  it('interpolation: loss and accuracy panels against alpha, training and test splits', async () => {
    const tx = texts(await renderSvg(byId('interpolation').spec));
    for (const s of ['Loss (cross-entropy, log scale)', 'Accuracy (%)', 'training', 'test', 'CLR cycles 1-2', 'regular training']) assert.ok(tx.includes(s), s);
    assert.ok(tx.some((s) => s.startsWith('Interpolation coefficient α')));
    for (const s of ['-0.5', '0.0', '0.5', '1.0', '1.5'].map((x) => x.replace('-', '−'))) assert.ok(tx.includes(s), `alpha tick ${s} in ${tx.join('|')}`);
  });

  it('barrier matrix: every pair labelled with its value', async () => {
    const tx = texts(await renderSvg(byId('barrier-matrix').spec));
    for (const s of ['cycle 1', 'cycle 2', 'cycle 3', '1.2', '1.5', '0.9', 'Barrier (loss)']) assert.ok(tx.includes(s), s);
  });

  it('PNG decodes at the requested width, with the SVG aspect ratio', async () => {
    const svg = await renderSvg(byId('loss').spec);
    const { width, height } = svgSize(svg);
    const png = renderPng(svg, { width: 640 });
    const size = pngSize(png);
    assert.equal(size.width, 640);
    assert.ok(Math.abs(size.height - (height * 640) / width) <= 1, `height ${size.height} vs ${(height * 640) / width}`);
    assert.equal(pngSize(renderPng(svg)).width, Math.round(width * 2));
    assert.throws(() => renderPng(svg, { width: 0 }), /PNG width/);
  });
});
