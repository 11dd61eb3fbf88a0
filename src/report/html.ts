/**
 * index.html of a report, as a pure function of its contents: the figures (as <img> of the SVG
 * files beside it, linked to their PNGs), a table of key numbers per run and each run's
 * configuration. Self-contained: inline CSS, no scripts, no external URLs, so it opens from disk.
 */
import type { RunSummary } from './summary.js';

export interface ReportRun {
  label: string;
  color: string;
  /** Run folder or Caffe log file, as given. */
  path: string;
  source: 'losstopo' | 'caffe';
  summary: RunSummary;
  /** run.json's name/kind/status/config/versions, or the Caffe solver block. */
  config: unknown;
}

export interface ReportFigureRef {
  id: string;
  title: string;
  caption: string;
  /** File names relative to index.html. */
  svg: string;
  png: string;
  width: number;
  height: number;
}

export interface ReportPage {
  title: string;
  generatedAt: string;
  runs: ReportRun[];
  figures: ReportFigureRef[];
  /** Notes shown above the table (incomplete files left out, issues in Caffe logs). */
  notes: string[];
}

export const GENERATOR = 'losstopo report';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const dash = '–';
const pct = (x: number | null): string => (x === null ? dash : Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : String(x));
const num = (x: number | null | undefined): string => (x === null || x === undefined ? dash : Number.isFinite(x) ? String(Number(x.toPrecision(4))) : String(x));
const int = (x: number | null): string => (x === null ? dash : x.toLocaleString('en-US'));

interface Column { head: string; title: string; cell: (r: ReportRun) => string | null; text?: boolean }

function suggestionsText(s: Record<string, unknown> | null): string | null {
  if (!s) return null;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(s)) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'number') parts.push(`${k} ${num(v)}`);
    else if (typeof v === 'object' && typeof (v as { lr?: unknown }).lr === 'number') parts.push(`${k} ${num((v as { lr: number }).lr)}`);
    else if (typeof v === 'string' || typeof v === 'boolean') parts.push(`${k} ${String(v)}`);
  }
  return parts.length ? parts.join(', ') : null;
}

function columns(target: number | null): Column[] {
  return [
    { head: 'Kind', title: 'run.json kind', cell: (r) => r.summary.kind, text: true },
    { head: 'Status', title: 'run.json status', cell: (r) => r.summary.status + (r.summary.diverged ? ' (non-finite loss)' : ''), text: true },
    { head: 'Iterations', title: 'last training iteration recorded', cell: (r) => (r.summary.iterations === null ? null : int(r.summary.iterations)) },
    { head: 'Final test acc.', title: 'test accuracy at the last evaluation (iteration)', cell: (r) => (r.summary.finalTestAccuracy === null ? null : `${pct(r.summary.finalTestAccuracy)} @ ${int(r.summary.finalTestIter)}`) },
    { head: 'Best test acc.', title: 'highest test accuracy (iteration)', cell: (r) => (r.summary.bestTestAccuracy === null ? null : `${pct(r.summary.bestTestAccuracy)} @ ${int(r.summary.bestTestIter)}`) },
    ...(target === null ? [] : [{ head: `Iters to ${pct(target)}`, title: `first evaluated iteration with test accuracy >= ${pct(target)}`, cell: (r: ReportRun) => (r.summary.evaluations === 0 ? null : r.summary.itersToTarget === null ? 'not reached' : int(r.summary.itersToTarget)) }]),
    { head: 'Final train loss', title: 'mean training loss over the last 100 iterations', cell: (r) => (r.summary.finalTrainLoss === null ? null : num(r.summary.finalTrainLoss)) },
    { head: 'LR range', title: 'lowest and highest LR applied', cell: (r) => (r.summary.minLr === null ? null : `${num(r.summary.minLr)}–${num(r.summary.maxLr)}`) },
    { head: 'Barrier (train / test)', title: 'interpolation: max rise of the loss above the straight line between alpha = 0 and 1', cell: (r) => (r.summary.interpolation ? `${num(r.summary.interpolation.train?.barrier)} / ${num(r.summary.interpolation.test?.barrier)}` : null) },
    { head: 'Min-loss α (train / test)', title: 'interpolation: alpha of the lowest loss', cell: (r) => (r.summary.interpolation ? `${num(r.summary.interpolation.train?.minAlpha)} / ${num(r.summary.interpolation.test?.minAlpha)}` : null) },
    { head: 'Range-test suggestions', title: 'range-test.json suggestions', cell: (r) => suggestionsText(r.summary.rangeSuggestions), text: true },
  ];
}

const css = `
body{font-family:"DejaVu Sans",Verdana,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1280px;color:#222;padding:0 16px}
.scroll{overflow-x:auto}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:32px}
.meta{color:#666;font-size:13px}
table{border-collapse:collapse;font-size:12px;margin-top:8px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4;font-weight:600}
td.num{text-align:right;white-space:nowrap}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
figure{margin:20px 0;border-top:1px solid #eee;padding-top:12px}
figure img{max-width:100%;height:auto}
figcaption{font-size:13px;color:#444;max-width:820px}
pre{background:#f7f7f7;padding:8px;font-size:12px;overflow:auto;max-height:420px}
details{margin:6px 0}
.notes{background:#fff8e1;border:1px solid #f0d98c;padding:6px 10px;font-size:13px}
`;

export function reportHtml(p: ReportPage): string {
  const target = p.runs.find((r) => r.summary.target !== null)?.summary.target ?? null;
  const cols = columns(target).filter((c) => p.runs.some((r) => c.cell(r) !== null));
  const e = escapeHtml;
  const rows = p.runs.map((r) => `<tr><td><span class="sw" style="background:${e(r.color)}"></span>${e(r.label)}${r.source === 'caffe' ? ' <small>(Caffe log)</small>' : ''}</td>`
    + cols.map((c) => `<td${c.text ? '' : ' class="num"'}>${e(c.cell(r) ?? dash)}</td>`).join('') + '</tr>').join('\n');
  const figs = p.figures.map((f) => `<figure id="fig-${e(f.id)}">
<h2>${e(f.title)}</h2>
<a href="${e(f.png)}"><img src="${e(f.svg)}" width="${f.width}" height="${f.height}" alt="${e(f.title)}"></a>
<figcaption>${e(f.caption)} <span class="meta">Files: <a href="${e(f.svg)}">${e(f.svg)}</a>, <a href="${e(f.png)}">${e(f.png)}</a>.</span></figcaption>
</figure>`).join('\n');
  const configs = p.runs.map((r) => `<details><summary><span class="sw" style="background:${e(r.color)}"></span>${e(r.label)} <span class="meta">${e(r.path)}</span></summary><pre>${e(JSON.stringify(r.config, null, 2))}</pre></details>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="${GENERATOR}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(p.title)}</title>
<style>${css}</style>
</head>
<body>
<h1>${e(p.title)}</h1>
<p class="meta">Generated ${e(p.generatedAt)} by losstopo from ${p.runs.length} run${p.runs.length === 1 ? '' : 's'}. Accuracies are on the test split unless stated.</p>
${p.notes.length ? `<div class="notes">${p.notes.map((n) => `<div>${e(n)}</div>`).join('')}</div>` : ''}
<h2>Key numbers</h2>
<div class="scroll"><table>
<thead><tr><th>Run</th>${cols.map((c) => `<th title="${e(c.title)}">${e(c.head)}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody>
</table></div>
${figs}
<h2>Configurations</h2>
${configs}
</body>
</html>
`;
}

export interface ReportSection {
  id: string;
  title: string;
  /** What the figure should show (the paper's finding). */
  expect: string;
  /** The section's own report, relative to the overview page. */
  href: string;
  /** Its figures (PNG files relative to the overview page), drawn as thumbnails. */
  figures: { title: string; png: string }[];
  /** One line of key numbers, or why the section has no report. */
  note?: string;
}

/** An overview page linking several reports (a reproduction: one report per figure of the paper). */
export function overviewHtml(title: string, generatedAt: string, sections: readonly ReportSection[]): string {
  const e = escapeHtml;
  const body = sections.map((s) => `<section id="${e(s.id)}">
<h2><a href="${e(s.href)}">${e(s.id)}: ${e(s.title)}</a></h2>
<p><b>Look for:</b> ${e(s.expect)}</p>
${s.note ? `<p class="meta">${e(s.note)}</p>` : ''}
<p>${s.figures.map((f) => `<a href="${e(s.href)}"><img src="${e(f.png)}" width="360" alt="${e(f.title)}" title="${e(f.title)}"></a>`).join(' ')}</p>
</section>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="${GENERATOR}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${css}</style>
</head>
<body>
<h1>${e(title)}</h1>
<p class="meta">Generated ${e(generatedAt)} by losstopo. Each section links its own report (key numbers, every figure, configurations).</p>
${body}
</body>
</html>
`;
}
