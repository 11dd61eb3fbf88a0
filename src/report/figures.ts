/**
 * The report's figures, as pure functions from run records to Vega-Lite specs (no I/O; the specs
 * are deterministic, so tests snapshot them). render.ts turns a spec into SVG and PNG.
 *
 * Figures (paper: Smith & Topin, "Exploring loss function topology with cyclical learning rates"):
 * - test-accuracy: test accuracy (%) against iteration for several runs, the LR schedule in a small
 *   panel above on the same iteration axis (Figs. 1a, 2b); Caffe logs overlaid dashed.
 * - loss: training loss (solid) and test loss (dashed) against iteration, log vertical axis (Fig. 2a).
 * - lr-schedule: LR (and momentum, where set) against iteration.
 * - range-test-accuracy: test accuracy against LR for range tests of several models (Fig. 1b).
 * - range-test-loss: smoothed training loss against LR (log), with the range test's suggestions.
 * - interpolation: training and test loss (log) and accuracy against alpha (Figs. 3a, 3b).
 * - barrier-matrix-*: the all-pairs barrier heights as a heatmap.
 *
 * A run keeps its colour in every figure: colours are given by the caller (FigureSeries.color), and
 * each figure's colour scale lists exactly the runs it draws with their colours.
 */
import type { CaffeLog } from '../caffe/log.js';
import type { AllPairsRecord, EvalRecord, InterpolationRecord, RangeTestRecord, TrainRecord } from './records.js';

/** A Vega-Lite spec as plain JSON. */
export type VlSpec = Record<string, unknown>;

export interface Figure {
  /** File stem: `<id>.svg`, `<id>.png`. */
  id: string;
  title: string;
  /** What the figure shows and how to read it (one or two sentences). */
  caption: string;
  spec: VlSpec;
}

/** One curve family in the figures: a losstopo run or an imported Caffe log. */
export interface FigureSeries {
  label: string;
  color: string;
  source: 'losstopo' | 'caffe';
  kind: string;
  train: readonly TrainRecord[];
  evals: readonly EvalRecord[];
  rangeTest?: RangeTestRecord;
  interpolation?: readonly InterpolationRecord[];
  allPairs?: AllPairsRecord;
}

export interface FigureOptions {
  /** Plot width and height in pixels (the plotting area). */
  width?: number;
  height?: number;
  /** Most points drawn per curve: longer training curves are averaged in equal buckets. */
  maxPoints?: number;
  /** LR axis of range-test figures on a log scale (the paper uses a linear one). */
  logLr?: boolean;
}

const defaults = { width: 560, height: 300, maxPoints: 1000, logLr: false } as const;

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Styling shared by every figure; fonts the PNG renderer finds on Debian (DejaVu) first. */
export const figureConfig = {
  font: 'DejaVu Sans, Verdana, Helvetica, Arial, sans-serif',
  background: 'white',
  axis: { titleFontSize: 12, labelFontSize: 11, titleFontWeight: 'normal', grid: true, gridColor: '#e6e6e6' },
  legend: { titleFontSize: 12, labelFontSize: 11, labelLimit: 480, orient: 'bottom', direction: 'vertical' },
  title: { fontSize: 14, anchor: 'start' },
  view: { stroke: '#bbb' },
  line: { strokeWidth: 1.6 },
} as const;

const r6 = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(6)) : x);
const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * At most `max` points: equal buckets of consecutive records, each drawn as its mean iteration and
 * mean value (non-finite values skipped, so a diverged stretch shows as a gap, not a spike to NaN).
 */
export function downsample<T>(rows: readonly T[], max: number, x: (r: T) => number, y: (r: T) => number): { x: number; y: number }[] {
  const pts = rows.map((r) => ({ x: x(r), y: y(r) })).filter((p) => Number.isFinite(p.x));
  if (pts.length <= max) return pts.filter((p) => Number.isFinite(p.y));
  const out: { x: number; y: number }[] = [];
  const k = pts.length / max;
  for (let b = 0; b < max; b++) {
    const lo = Math.floor(b * k), hi = Math.floor((b + 1) * k);
    let sx = 0, sy = 0, n = 0;
    for (let i = lo; i < hi; i++) { const p = pts[i]!; if (Number.isFinite(p.y)) { sx += p.x; sy += p.y; n++; } }
    if (n > 0) out.push({ x: sx / n, y: sy / n });
  }
  return out;
}

function colorEncoding(series: readonly FigureSeries[]): VlSpec {
  const seen = new Set<string>();
  const used = series.filter((s) => (seen.has(s.label) ? false : (seen.add(s.label), true)));
  return {
    field: 'run', type: 'nominal', title: 'Run',
    scale: { domain: used.map((s) => s.label), range: used.map((s) => s.color) },
  };
}

const sourceDash = (series: readonly FigureSeries[]): VlSpec | undefined =>
  series.some((s) => s.source === 'caffe')
    ? { field: 'source', type: 'nominal', title: 'Source', scale: { domain: ['losstopo', 'caffe (authors)'], range: [[1, 0], [6, 3]] } }
    : undefined;

const sourceName = (s: FigureSeries): string => (s.source === 'caffe' ? 'caffe (authors)' : 'losstopo');

function base(title: string, o: Required<FigureOptions>): VlSpec {
  return { $schema: SCHEMA, title, config: figureConfig, width: o.width, height: o.height };
}

function opts(o: FigureOptions): Required<FigureOptions> {
  return { ...defaults, ...o };
}

const testOf = (s: FigureSeries): EvalRecord[] => s.evals.filter((e) => e.split === 'test');

function iterDomain(series: readonly FigureSeries[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const s of series) {
    for (const r of s.train) { if (r.iter < lo) lo = r.iter; if (r.iter > hi) hi = r.iter; }
    for (const r of s.evals) { if (r.iter < lo) lo = r.iter; if (r.iter > hi) hi = r.iter; }
  }
  return Number.isFinite(lo) ? [lo, hi > lo ? hi : lo + 1] : [0, 1];
}

function lrRows(series: readonly FigureSeries[], max: number): VlSpec[] {
  const rows: VlSpec[] = [];
  for (const s of series) {
    const withLr = s.train.filter((r) => finite(r.lr));
    const step = Math.max(1, Math.ceil(withLr.length / max));
    for (let i = 0; i < withLr.length; i += step) {
      const r = withLr[i]!;
      rows.push({ run: s.label, source: sourceName(s), iter: r.iter, lr: r6(r.lr) });
    }
    // Keep the last point so a schedule ends where it ends.
    const last = withLr[withLr.length - 1];
    if (last && (withLr.length - 1) % step !== 0) rows.push({ run: s.label, source: sourceName(s), iter: last.iter, lr: r6(last.lr) });
  }
  return rows;
}

/** Test accuracy (%) against iteration, the LR schedule above it (paper Figs. 1a, 2b). */
export function testAccuracyFigure(series: readonly FigureSeries[], o: FigureOptions = {}): Figure | null {
  const op = opts(o);
  const drawn = series.filter((s) => testOf(s).some((e) => finite(e.accuracy)));
  if (drawn.length === 0) return null;
  const rows = drawn.flatMap((s) => testOf(s).filter((e) => finite(e.accuracy))
    .map((e) => ({ run: s.label, source: sourceName(s), iter: e.iter, accuracy: r6(e.accuracy * 100) })));
  const domain = iterDomain(drawn);
  const dash = sourceDash(drawn);
  const x = { field: 'iter', type: 'quantitative', title: 'Iteration', scale: { domain } };
  const accuracy: VlSpec = {
    width: op.width, height: op.height,
    data: { values: rows },
    mark: { type: 'line', interpolate: 'linear' },
    encoding: {
      x,
      y: { field: 'accuracy', type: 'quantitative', title: 'Test accuracy (%)', scale: { zero: false } },
      color: colorEncoding(drawn),
      ...(dash ? { strokeDash: dash } : {}),
      detail: { field: 'source' },
    },
  };
  const lr = lrRows(drawn, op.maxPoints);
  const caption = 'Test accuracy against training iteration for each run; the panel above shows the learning rate each run applied at that iteration, so accuracy changes can be read against the LR (paper Figs. 1a and 2b).'
    + (dash ? ' Dashed curves are the authors\' Caffe logs.' : '');
  if (lr.length === 0) {
    return { id: 'test-accuracy', title: 'Test accuracy', caption, spec: { ...base('Test accuracy', op), ...accuracy } };
  }
  const lrPanel: VlSpec = {
    width: op.width, height: Math.round(op.height / 3.5),
    data: { values: lr },
    mark: { type: 'line', interpolate: 'linear' },
    encoding: {
      x: { ...x, title: null, axis: { labels: false, ticks: false, title: null } },
      y: { field: 'lr', type: 'quantitative', title: 'LR', scale: { zero: true } },
      color: colorEncoding(drawn),
      ...(dash ? { strokeDash: dash } : {}),
      detail: { field: 'source' },
    },
  };
  const { width: _w, height: _h, ...top } = base('Test accuracy', op);
  return {
    id: 'test-accuracy', title: 'Test accuracy', caption,
    spec: { ...top, vconcat: [lrPanel, accuracy], spacing: 6, resolve: { scale: { x: 'shared', color: 'shared', strokeDash: 'shared' } } },
  };
}

/** Training loss (solid) and test loss (dashed) against iteration on a log axis (paper Fig. 2a). */
export function lossFigure(series: readonly FigureSeries[], o: FigureOptions = {}): Figure | null {
  const op = opts(o);
  const rows: VlSpec[] = [];
  const drawn: FigureSeries[] = [];
  for (const s of series) {
    const n0 = rows.length;
    for (const p of downsample(s.train, op.maxPoints, (r) => r.iter, (r) => r.trainLoss)) {
      if (p.y > 0) rows.push({ run: s.label, series: 'training loss', iter: r6(p.x), loss: r6(p.y) });
    }
    for (const e of testOf(s)) if (finite(e.loss) && e.loss > 0) rows.push({ run: s.label, series: 'test loss', iter: e.iter, loss: r6(e.loss) });
    if (rows.length > n0) drawn.push(s);
  }
  if (drawn.length === 0) return null;
  return {
    id: 'loss', title: 'Training and test loss',
    caption: 'Training loss (solid; averaged over equal buckets of iterations when there are many) and test loss (dashed) against iteration, on a log vertical axis as in paper Fig. 2a: a jump of several orders of magnitude in training loss as the LR grows is the anomaly the paper reports. Non-finite (diverged) values are gaps.',
    spec: {
      ...base('Training and test loss', op),
      data: { values: rows },
      mark: { type: 'line', interpolate: 'linear' },
      encoding: {
        x: { field: 'iter', type: 'quantitative', title: 'Iteration' },
        y: { field: 'loss', type: 'quantitative', title: 'Loss (cross-entropy, log scale)', scale: { type: 'log' } },
        color: colorEncoding(drawn),
        strokeDash: { field: 'series', type: 'nominal', title: 'Curve', scale: { domain: ['training loss', 'test loss'], range: [[1, 0], [5, 3]] } },
      },
    },
  };
}

/** The LR (and momentum, where a run sets it) each run applied against iteration. */
export function lrScheduleFigure(series: readonly FigureSeries[], o: FigureOptions = {}): Figure | null {
  const op = opts(o);
  const drawn = series.filter((s) => s.train.some((r) => finite(r.lr)));
  if (drawn.length === 0) return null;
  const lr = lrRows(drawn, op.maxPoints);
  const dash = sourceDash(drawn);
  const x = { field: 'iter', type: 'quantitative', title: 'Iteration', scale: { domain: iterDomain(drawn) } };
  const lrSpec: VlSpec = {
    width: op.width, height: Math.round(op.height * 0.7),
    data: { values: lr },
    mark: { type: 'line', interpolate: 'linear' },
    encoding: {
      x, y: { field: 'lr', type: 'quantitative', title: 'Learning rate', scale: { zero: true } },
      color: colorEncoding(drawn), ...(dash ? { strokeDash: dash } : {}), detail: { field: 'source' },
    },
  };
  const mom: VlSpec[] = [];
  for (const s of drawn) {
    const withM = s.train.filter((r) => finite(r.momentum));
    const step = Math.max(1, Math.ceil(withM.length / op.maxPoints));
    for (let i = 0; i < withM.length; i += step) mom.push({ run: s.label, iter: withM[i]!.iter, momentum: r6(withM[i]!.momentum!) });
  }
  const caption = 'The learning rate each run applied at every iteration (as recorded in metrics.jsonl, not recomputed)'
    + (mom.length ? ', and below it the momentum for runs that cycle it.' : '.');
  if (mom.length === 0) return { id: 'lr-schedule', title: 'Learning-rate schedule', caption, spec: { ...base('Learning-rate schedule', op), ...lrSpec } };
  const { width: _w, height: _h, ...top } = base('Learning-rate schedule', op);
  const momSpec: VlSpec = {
    width: op.width, height: Math.round(op.height * 0.35),
    data: { values: mom },
    mark: { type: 'line' },
    encoding: { x, y: { field: 'momentum', type: 'quantitative', title: 'Momentum', scale: { zero: false } }, color: colorEncoding(drawn) },
  };
  return { id: 'lr-schedule', title: 'Learning-rate schedule', caption, spec: { ...top, vconcat: [lrSpec, momSpec], spacing: 8, resolve: { scale: { x: 'shared', color: 'shared' } } } };
}

const isRange = (s: FigureSeries): boolean => s.kind === 'range-test' || s.rangeTest !== undefined;

/** LR at an iteration: the training record there, or the last one before it. */
function lrAtIter(train: readonly TrainRecord[], iter: number): number {
  let lo = 0, hi = train.length - 1, ans = -1;
  while (lo <= hi) { const m = (lo + hi) >> 1; if (train[m]!.iter <= iter) { ans = m; lo = m + 1; } else hi = m - 1; }
  return ans >= 0 ? train[ans]!.lr : NaN;
}

/** Range-test points with a test accuracy: range-test.json, else evaluations matched to the LR then. */
export function rangeAccuracyPoints(s: FigureSeries): { lr: number; accuracy: number; iter: number }[] {
  const fromFile = (s.rangeTest?.points ?? []).filter((p) => finite(p.testAccuracy) && finite(p.lr))
    .map((p) => ({ lr: p.lr, accuracy: p.testAccuracy!, iter: p.iter }));
  if (fromFile.length) return fromFile;
  return testOf(s).map((e) => ({ lr: lrAtIter(s.train, e.iter), accuracy: e.accuracy, iter: e.iter }))
    .filter((p) => finite(p.lr) && finite(p.accuracy));
}

const lrScale = (op: Required<FigureOptions>): VlSpec => (op.logLr ? { type: 'log' } : { zero: true });

/** Test accuracy against LR for range tests (paper Fig. 1b). */
export function rangeTestAccuracyFigure(series: readonly FigureSeries[], o: FigureOptions = {}): Figure | null {
  const op = opts(o);
  const drawn = series.filter(isRange).filter((s) => rangeAccuracyPoints(s).length > 0);
  if (drawn.length === 0) return null;
  const rows = drawn.flatMap((s) => rangeAccuracyPoints(s).filter((p) => !op.logLr || p.lr > 0)
    .map((p) => ({ run: s.label, source: sourceName(s), lr: r6(p.lr), accuracy: r6(p.accuracy * 100), iter: p.iter })));
  const dash = sourceDash(drawn);
  return {
    id: 'range-test-accuracy', title: 'LR range test: test accuracy',
    caption: 'LR range tests: the LR grows linearly from the lower to the upper bound during one short run, and test accuracy is plotted against the LR in use at each evaluation (paper Fig. 1b). A dip marks LRs where training is unstable; a long plateau of high accuracy at large LRs is the sign of super-convergence.',
    spec: {
      ...base('LR range test: test accuracy', op),
      data: { values: rows },
      mark: { type: 'line', interpolate: 'linear' },
      encoding: {
        x: { field: 'lr', type: 'quantitative', title: `Learning rate${op.logLr ? ' (log scale)' : ''}`, scale: lrScale(op) },
        y: { field: 'accuracy', type: 'quantitative', title: 'Test accuracy (%)', scale: { zero: false } },
        color: colorEncoding(drawn), ...(dash ? { strokeDash: dash } : {}), detail: { field: 'source' },
        order: { field: 'iter' },
      },
    },
  };
}

/**
 * LR suggestions of a range test: entries `{"valley": {"lr": 0.3, "rule": ...}}` (losstopo's
 * range-test.json) or plain numbers under keys that mention "lr" (`{"maxLr": 3}`). Null entries
 * (no suggestion) are skipped.
 */
export function lrSuggestions(r: RangeTestRecord | undefined): { name: string; lr: number }[] {
  if (!r) return [];
  const out: { name: string; lr: number }[] = [];
  for (const [k, v] of Object.entries(r.suggestions)) {
    if (typeof v === 'number' && Number.isFinite(v) && /lr/i.test(k)) out.push({ name: k, lr: v });
    else if (typeof v === 'object' && v !== null && typeof (v as { lr?: unknown }).lr === 'number' && Number.isFinite((v as { lr: number }).lr)) {
      out.push({ name: k, lr: (v as { lr: number }).lr });
    }
  }
  return out;
}

/** Smoothed training loss against LR (log), suggestions as vertical rules. */
export function rangeTestLossFigure(series: readonly FigureSeries[], o: FigureOptions = {}): Figure | null {
  const op = opts(o);
  const drawn = series.filter((s) => (s.rangeTest?.points ?? []).some((p) => finite(p.smoothedLoss) && p.smoothedLoss > 0));
  if (drawn.length === 0) return null;
  const rows: VlSpec[] = [];
  for (const s of drawn) {
    for (const p of downsample(s.rangeTest!.points, op.maxPoints, (q) => q.lr, (q) => q.smoothedLoss)) {
      if (p.y > 0 && (!op.logLr || p.x > 0)) rows.push({ run: s.label, lr: r6(p.x), loss: r6(p.y) });
    }
  }
  const rules = drawn.flatMap((s) => lrSuggestions(s.rangeTest).map((g) => ({ run: s.label, suggestion: g.name, lr: r6(g.lr) })));
  const x = { field: 'lr', type: 'quantitative', title: `Learning rate${op.logLr ? ' (log scale)' : ''}`, scale: lrScale(op) };
  const layers: VlSpec[] = [{
    data: { values: rows },
    mark: { type: 'line' },
    encoding: {
      x, y: { field: 'loss', type: 'quantitative', title: 'Smoothed training loss (log scale)', scale: { type: 'log' } },
      color: colorEncoding(drawn),
    },
  }];
  if (rules.length) {
    layers.push({
      data: { values: rules },
      mark: { type: 'rule', strokeDash: [3, 3] },
      encoding: { x, color: colorEncoding(drawn), tooltip: [{ field: 'run' }, { field: 'suggestion' }, { field: 'lr' }] },
    });
    layers.push({
      data: { values: rules },
      mark: { type: 'text', angle: 270, align: 'left', dx: 4, dy: -4, fontSize: 10 },
      encoding: { x, y: { value: 4 }, text: { field: 'suggestion' }, color: colorEncoding(drawn) },
    });
  }
  return {
    id: 'range-test-loss', title: 'LR range test: training loss',
    caption: 'Smoothed training loss against the LR during range tests, log vertical axis. Dashed vertical lines are the range test\'s LR suggestions (range-test.json).',
    spec: { ...base('LR range test: training loss', op), layer: layers },
  };
}

/** Training and test loss (log) and accuracy against alpha (paper Fig. 3). */
export function interpolationFigure(series: readonly FigureSeries[], o: FigureOptions = {}): Figure | null {
  const op = opts(o);
  const drawn = series.filter((s) => (s.interpolation ?? []).length > 0);
  if (drawn.length === 0) return null;
  const splitName = (sp: string): string => (sp === 'train' ? 'training' : 'test');
  const loss: VlSpec[] = [], acc: VlSpec[] = [];
  for (const s of drawn) {
    for (const p of [...s.interpolation!].sort((a, b) => a.alpha - b.alpha || a.split.localeCompare(b.split))) {
      if (finite(p.loss) && p.loss > 0) loss.push({ run: s.label, split: splitName(p.split), alpha: r6(p.alpha), loss: r6(p.loss) });
      if (finite(p.accuracy)) acc.push({ run: s.label, split: splitName(p.split), alpha: r6(p.alpha), accuracy: r6(p.accuracy * 100) });
    }
  }
  const x = { field: 'alpha', type: 'quantitative', title: 'Interpolation coefficient α  (net = (1−α)·from + α·to)', scale: { nice: false }, axis: { tickMinStep: 0.25 } };
  const dash = { field: 'split', type: 'nominal', title: 'Split', scale: { domain: ['training', 'test'], range: [[1, 0], [5, 3]] } };
  const ends = { data: { values: [{ alpha: 0 }, { alpha: 1 }] }, mark: { type: 'rule', color: '#999', strokeDash: [2, 2] }, encoding: { x: { field: 'alpha', type: 'quantitative' } } };
  const panel = (values: VlSpec[], y: VlSpec, height: number): VlSpec => ({
    width: op.width, height,
    layer: [ends, { data: { values }, mark: { type: 'line', point: { size: 14 } }, encoding: { x, y, color: colorEncoding(drawn), strokeDash: dash } }],
  });
  const { width: _w, height: _h, ...top } = base('Interpolation between solutions', op);
  const panels = [panel(loss, { field: 'loss', type: 'quantitative', title: 'Loss (cross-entropy, log scale)', scale: { type: 'log' } }, op.height)];
  if (acc.length) panels.push(panel(acc, { field: 'accuracy', type: 'quantitative', title: 'Accuracy (%)', scale: { zero: false } }, Math.round(op.height * 0.6)));
  return {
    id: 'interpolation', title: 'Interpolation between solutions',
    caption: 'Loss (top, log axis) and accuracy (bottom) of the networks (1−α)·from + α·to (α = 0 is the first checkpoint, α = 1 the second), training split solid and test split dashed; the grey lines mark the two solutions (α = 0 and 1). A single bowl means both lie in one basin (paper Fig. 3a); a peak between them means two distinct minima (Fig. 3b). Test-loss minima offset towards the centre are the regularisation effect the paper notes.',
    spec: { ...top, vconcat: panels, spacing: 10, resolve: { scale: { x: 'shared', color: 'shared' } } },
  };
}

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'run';

/** The all-pairs barrier matrix of each run that has one, as a heatmap with the values written in. */
export function barrierMatrixFigures(series: readonly FigureSeries[], o: FigureOptions = {}): Figure[] {
  const op = opts(o);
  const drawn = series.filter((s) => s.allPairs && s.allPairs.labels.length > 0);
  const used = new Set<string>();
  return drawn.map((s) => {
    const ap = s.allPairs!;
    const rows: VlSpec[] = [];
    ap.labels.forEach((from, i) => ap.labels.forEach((to, j) => {
      const v = ap.barrier[i]![j]!;
      rows.push({ from, to, barrier: finite(v) ? r6(v) : null, text: finite(v) ? String(Number(v.toPrecision(3))) : '–' });
    }));
    let id = drawn.length === 1 ? 'barrier-matrix' : `barrier-matrix-${slug(s.label)}`;
    for (let k = 2; used.has(id); k++) id = `barrier-matrix-${slug(s.label)}-${k}`;
    used.add(id);
    const size = Math.min(op.width, Math.max(160, 48 * ap.labels.length));
    const axis = { sort: ap.labels };
    const title = `Loss barrier between solutions: ${s.label}`;
    return {
      id, title,
      caption: 'Barrier height between every pair of solutions: how far the loss rises above the straight line between the two along the linear path joining them. Zero (dark) means the two share a basin; larger values mean distinct minima.',
      spec: {
        $schema: SCHEMA, title, config: figureConfig, width: size, height: size,
        data: { values: rows },
        encoding: {
          x: { field: 'to', type: 'ordinal', title: 'Solution', ...axis, axis: { labelAngle: -40, grid: false } },
          y: { field: 'from', type: 'ordinal', title: 'Solution', ...axis, axis: { grid: false } },
        },
        layer: [
          { mark: { type: 'rect' }, encoding: { color: { field: 'barrier', type: 'quantitative', title: 'Barrier (loss)', scale: { scheme: 'viridis' }, legend: { orient: 'right', direction: 'vertical' } } } },
          { mark: { type: 'text', fontSize: 11 }, encoding: { text: { field: 'text' }, color: { condition: { test: 'datum.barrier > 0 && datum.barrier >= 0.5 * ' + String(maxOf(ap.barrier)), value: 'black' }, value: 'white' } } },
        ],
      },
    };
  });
}

function maxOf(m: number[][]): number {
  let mx = 0;
  for (const row of m) for (const v of row) if (finite(v) && v > mx) mx = v;
  return r6(mx);
}

/** True for a Caffe solver that is a range test: triangular with one step as long as the run. */
export function isCaffeRangeTest(solver: Record<string, unknown>): boolean {
  const p = solver.lr_policy, step = solver.stepsize, max = solver.max_iter;
  return (p === 'triangular' || p === 'triangular2') && typeof step === 'number' && typeof max === 'number' && step >= max;
}

/** A Caffe log as a figure series (the authors' curves, drawn dashed). */
export function caffeSeries(label: string, color: string, log: CaffeLog): FigureSeries {
  return {
    label, color, source: 'caffe',
    kind: isCaffeRangeTest(log.solver) ? 'range-test' : 'train',
    train: log.train.map((p) => ({ iter: p.iter, lr: p.lr ?? NaN, momentum: null, trainLoss: p.loss })),
    evals: log.test.filter((t) => t.net === undefined).map((t) => ({ iter: t.iter, split: 'test' as const, loss: t.loss ?? NaN, accuracy: t.accuracy ?? NaN })),
  };
}

/** Every figure the series support, in report order. */
export function allFigures(series: readonly FigureSeries[], o: FigureOptions = {}): Figure[] {
  const trainLike = series.filter((s) => s.kind !== 'interpolation');
  return [
    testAccuracyFigure(trainLike.filter((s) => !isRange(s)), o),
    lossFigure(trainLike.filter((s) => !isRange(s)), o),
    lrScheduleFigure(trainLike, o),
    rangeTestAccuracyFigure(trainLike, o),
    rangeTestLossFigure(trainLike, o),
    interpolationFigure(series, o),
    ...barrierMatrixFigures(series, o),
  ].filter((f): f is Figure => f !== null);
}
