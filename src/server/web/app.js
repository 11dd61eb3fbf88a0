// losstopo dashboard page: plain ES module, no build step. Charts with uPlot (served by the
// dashboard from node_modules). Lists runs from /api/runs (polled), follows the selected runs'
// metrics.jsonl through one server-sent-event stream (/api/events), and overlays them.
// Every text from run folders goes into the page through textContent, never as HTML.
/* global uPlot */

const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'style') Object.assign(e.style, v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
};

const fmt = (x, d = 4) => (x === null || x === undefined ? '–' : Number.isFinite(x) ? String(Number(x.toPrecision(d))) : String(x));
const pct = (x) => (x === null || x === undefined ? '–' : Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : String(x));
const int = (x) => (x === null || x === undefined ? '–' : x.toLocaleString('en-US'));

const LIST_MS = 2000;
const MAX_POINTS = 3000;

const state = {
  list: [],
  reports: [],
  byId: new Map(),
  selected: [],
  runs: new Map(),
  es: null,
  esKey: '',
  charts: new Map(),
  drawTimer: null,
  problems: [],
};

// --- selection, kept in the URL hash ----------------------------------------------------------
function readHash() {
  const m = /(?:^#|&)runs=([^&]*)/.exec(location.hash);
  return m && m[1] ? m[1].split(',').map(decodeURIComponent).filter(Boolean) : [];
}
function writeHash() {
  const h = state.selected.length ? '#runs=' + state.selected.map(encodeURIComponent).join(',') : '';
  if (location.hash !== h) history.replaceState(null, '', h || location.pathname);
}

function newRunData(id) {
  return { id, detail: null, gone: false, offset: 0, lines: 0, train: { iter: [], lr: [], loss: [] }, test: { iter: [], acc: [], loss: [] } };
}

function select(id, on) {
  if (on && !state.selected.includes(id)) {
    state.selected.push(id);
    if (!state.runs.has(id)) state.runs.set(id, newRunData(id));
    fetchDetail(id);
  } else if (!on) {
    state.selected = state.selected.filter((x) => x !== id);
    state.runs.delete(id);
  }
  writeHash();
  syncStream();
  renderList();
  queueDraw();
}

// --- data from the server ----------------------------------------------------------------------
async function getJson(url) {
  const r = await fetch(url, { headers: { accept: 'application/json' } });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw Object.assign(new Error(body.message || r.statusText), { status: r.status, code: body.code });
  return body;
}

async function refreshList() {
  try {
    const doc = await getJson('/api/runs');
    state.list = doc.runs;
    state.reports = doc.reports;
    state.byId = new Map(doc.runs.map((r) => [r.id, r]));
    document.getElementById('root').textContent = doc.root;
    for (const id of state.selected) {
      const r = state.runs.get(id);
      if (r && !state.byId.has(id)) r.gone = true;
    }
    renderList();
    renderDetails();
  } catch (e) {
    document.getElementById('root').textContent = `server not reachable (${e.message})`;
  }
  document.body.dataset.ready = '1';
}

async function fetchDetail(id) {
  try {
    const d = await getJson('/api/run?id=' + encodeURIComponent(id));
    const r = state.runs.get(id);
    if (r) { r.detail = d; queueDraw(); renderDetails(); }
  } catch (e) {
    const r = state.runs.get(id);
    if (r && e.status === 404) { r.gone = true; renderList(); }
  }
}

function addRecords(r, records) {
  for (const rec of records) {
    if ('split' in rec) {
      if (rec.split !== 'test') continue;
      r.test.iter.push(rec.iter); r.test.acc.push(rec.accuracy); r.test.loss.push(rec.loss);
    } else {
      r.train.iter.push(rec.iter); r.train.lr.push(rec.lr); r.train.loss.push(rec.trainLoss);
    }
  }
}

function syncStream(force = false) {
  const follow = state.selected.filter((id) => { const r = state.runs.get(id); return r && !r.gone; });
  const key = follow.join('\n');
  if (!force && key === state.esKey && state.es) return;
  if (state.es) { state.es.close(); state.es = null; }
  state.esKey = key;
  setLive(false);
  if (follow.length === 0) return;
  const q = follow.map((id) => { const r = state.runs.get(id); return `run=${encodeURIComponent(id)}&offset=${r.offset}&lines=${r.lines}`; }).join('&');
  const es = new EventSource('/api/events?' + q);
  state.es = es;
  const on = (name, f) => es.addEventListener(name, (ev) => { if (state.es === es) f(JSON.parse(ev.data)); });
  es.onopen = () => setLive(true);
  // EventSource would reconnect with the offsets of the first request; reopen with current ones.
  es.onerror = () => {
    if (state.es !== es) return;
    es.close(); state.es = null; setLive(false);
    setTimeout(() => { if (!state.es) syncStream(true); }, 2000);
  };
  on('metrics', (d) => {
    const r = state.runs.get(d.id);
    if (!r) return;
    addRecords(r, d.records);
    r.offset = d.offset; r.lines = d.lines;
    queueDraw();
  });
  on('reset', (d) => {
    const r = state.runs.get(d.id);
    if (!r) return;
    const fresh = newRunData(d.id);
    fresh.detail = r.detail;
    state.runs.set(d.id, fresh);
    queueDraw();
  });
  on('run', (d) => {
    const entry = state.byId.get(d.id);
    if (entry) Object.assign(entry, d.info);
    const r = state.runs.get(d.id);
    if (r && r.detail) r.detail.info = { ...r.detail.info, ...d.info };
    renderList(); renderDetails();
  });
  on('detail', (d) => fetchDetail(d.id));
  on('gone', (d) => {
    const r = state.runs.get(d.id);
    if (r) r.gone = true;
    renderList(); renderDetails();
  });
  on('problem', (d) => { state.problems.push(d); renderDetails(); });
}

function setLive(live) {
  const c = document.getElementById('conn');
  c.classList.toggle('live', live);
  c.title = live ? 'following the selected runs live' : 'not following';
}

// --- the run list --------------------------------------------------------------------------------
function colorOf(id) {
  const e = state.byId.get(id);
  return e ? e.color : '#999';
}
function labelOf(id) {
  const e = state.byId.get(id);
  const r = state.runs.get(id);
  return (e && e.label) || (r && r.detail && r.detail.label) || id;
}

function runNumbers(e) {
  const s = e.summary;
  if (!s) return '';
  const parts = [];
  if (s.bestTestAccuracy !== null) parts.push(`best ${pct(s.bestTestAccuracy)} @ ${int(s.bestTestIter)}`);
  if (s.finalTestAccuracy !== null) parts.push(`final ${pct(s.finalTestAccuracy)}`);
  if (s.iterations !== null) parts.push(`${int(s.iterations)} it`);
  if (s.interpolation) parts.push(`barrier ${fmt(s.interpolation.train && s.interpolation.train.barrier, 3)} / ${fmt(s.interpolation.test && s.interpolation.test.barrier, 3)}`);
  if (s.maxLr !== null) parts.push(`LR ${fmt(s.minLr, 3)}–${fmt(s.maxLr, 3)}`);
  return parts.join(' · ');
}

function renderList() {
  const ul = document.getElementById('runs');
  const items = [...state.list];
  for (const id of state.selected) if (!state.byId.has(id)) items.push({ id, label: id, color: '#999', status: 'deleted', summary: null, gone: true });
  ul.replaceChildren(...items.map((e) => {
    const checked = state.selected.includes(e.id);
    const status = e.gone ? 'deleted' : e.error ? 'unreadable' : e.status || '?';
    return el('li', { dataset: { id: e.id } },
      el('label', {},
        el('input', { type: 'checkbox', checked, onchange: (ev) => select(e.id, ev.target.checked) }),
        el('span', { class: 'sw', style: { background: e.color } }),
        el('span', { class: 'name' }, e.label),
        el('span', { class: `status ${status}` }, status)),
      el('div', { class: 'nums' }, el('span', { class: 'id' }, e.id), ' ', runNumbers(e)),
      e.report ? el('div', { class: 'nums' }, el('a', { href: e.report, target: '_blank', rel: 'noopener' }, 'report')) : null,
      e.error ? el('div', { class: 'err' }, e.error.message) : null);
  }));
  const rep = document.getElementById('reports');
  rep.replaceChildren(...(state.reports.length ? [el('h2', {}, 'Reports'), el('ul', {}, ...state.reports.map((r) => el('li', {}, el('a', { href: r.url, target: '_blank', rel: 'noopener' }, r.title), ' ', el('span', { class: 'id' }, r.id))))] : []));
  document.getElementById('empty').hidden = state.selected.length > 0;
}

// --- charts ----------------------------------------------------------------------------------------
/** At most `max` points: bucket means (non-finite values skipped). */
function downsample(xs, ys, max) {
  if (xs.length <= max) return [xs, ys.map((y) => (Number.isFinite(y) ? y : null))];
  const ox = [], oy = [];
  const k = xs.length / max;
  for (let b = 0; b < max; b++) {
    let sx = 0, sy = 0, n = 0;
    for (let i = Math.floor(b * k); i < Math.floor((b + 1) * k); i++) if (Number.isFinite(ys[i])) { sx += xs[i]; sy += ys[i]; n++; }
    if (n) { ox.push(sx / n); oy.push(sy / n); }
  }
  return [ox, oy];
}
const positive = (ys) => ys.map((y) => (y !== null && Number.isFinite(y) && y > 0 ? y : null));

/** Sorted unique x with the last y for repeated x (uPlot needs ascending x). */
function sortXY(xs, ys) {
  const idx = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b] || a - b);
  const ox = [], oy = [];
  for (const i of idx) {
    if (ox.length && ox[ox.length - 1] === xs[i]) oy[oy.length - 1] = ys[i];
    else { ox.push(xs[i]); oy.push(ys[i]); }
  }
  return [ox, oy];
}

function lrAt(r, iter) {
  const it = r.train.iter;
  let lo = 0, hi = it.length - 1, ans = -1;
  while (lo <= hi) { const m = (lo + hi) >> 1; if (it[m] <= iter) { ans = m; lo = m + 1; } else hi = m - 1; }
  return ans >= 0 ? r.train.lr[ans] : NaN;
}

const isRange = (r) => (r.detail && (r.detail.info.kind === 'range-test' || r.detail.rangeTest)) || false;

function buildCharts() {
  const sel = state.selected.map((id) => state.runs.get(id)).filter(Boolean);
  const acc = [], loss = [], lr = [], range = [], interp = [];
  for (const r of sel) {
    const color = colorOf(r.id), label = labelOf(r.id);
    if (!isRange(r)) {
      if (r.test.iter.length) acc.push({ label, color, x: r.test.iter, y: r.test.acc.map((a) => (Number.isFinite(a) ? a * 100 : null)) });
      if (r.train.iter.length) {
        const [x, y] = downsample(r.train.iter, r.train.loss, MAX_POINTS);
        loss.push({ label: `${label} · training`, color, x, y: positive(y) });
      }
      if (r.test.iter.length) loss.push({ label: `${label} · test`, color, dash: [6, 4], x: r.test.iter, y: positive(r.test.loss) });
    }
    if (r.train.iter.length) {
      const step = Math.max(1, Math.ceil(r.train.iter.length / MAX_POINTS));
      const x = [], y = [];
      for (let i = 0; i < r.train.iter.length; i += step) { x.push(r.train.iter[i]); y.push(Number.isFinite(r.train.lr[i]) ? r.train.lr[i] : null); }
      lr.push({ label, color, x, y });
    }
    if (isRange(r)) {
      let pts = ((r.detail && r.detail.rangeTest && r.detail.rangeTest.points) || []).filter((p) => Number.isFinite(p.testAccuracy) && Number.isFinite(p.lr)).map((p) => [p.lr, p.testAccuracy * 100]);
      if (!pts.length) pts = r.test.iter.map((it, i) => [lrAt(r, it), r.test.acc[i] * 100]).filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
      if (pts.length) { const [x, y] = sortXY(pts.map((p) => p[0]), pts.map((p) => p[1])); range.push({ label, color, x, y }); }
    }
    const ip = (r.detail && r.detail.interpolation) || [];
    for (const split of ['train', 'test']) {
      const pts = ip.filter((p) => p.split === split);
      if (!pts.length) continue;
      const [x, y] = sortXY(pts.map((p) => p.alpha), pts.map((p) => p.loss));
      interp.push({ label: `${label} · ${split === 'train' ? 'training' : 'test'}`, color, dash: split === 'test' ? [6, 4] : undefined, x, y: positive(y) });
    }
  }
  return [
    { id: 'chart-acc', xLabel: 'Iteration', yLabel: 'Test accuracy (%)', series: acc },
    { id: 'chart-loss', xLabel: 'Iteration', yLabel: 'Loss (log)', log: true, series: loss },
    { id: 'chart-lr', xLabel: 'Iteration', yLabel: 'Learning rate', series: lr, height: 160 },
    { id: 'chart-range', xLabel: 'Learning rate', yLabel: 'Test accuracy (%)', series: range },
    { id: 'chart-interp', xLabel: 'α', yLabel: 'Loss (log)', log: true, series: interp },
  ];
}

function drawChart(c) {
  const box = document.getElementById(c.id);
  const target = box.querySelector('.plot');
  const prev = state.charts.get(c.id);
  if (c.series.length === 0) {
    if (prev) { prev.u.destroy(); state.charts.delete(c.id); }
    box.hidden = true;
    box.dataset.points = '0';
    box.dataset.series = '0';
    return;
  }
  box.hidden = false;
  const data = c.series.length === 1 ? [c.series[0].x, c.series[0].y] : uPlot.join(c.series.map((s) => [s.x, s.y]));
  let points = 0;
  for (const s of c.series) for (const y of s.y) if (y !== null && y !== undefined) points++;
  box.dataset.points = String(points);
  box.dataset.series = String(c.series.length);
  const key = c.series.map((s) => `${s.label}|${s.color}|${s.dash ? 'd' : ''}`).join('\n');
  if (prev && prev.key === key) { prev.u.setData(data); return; }
  if (prev) prev.u.destroy();
  const width = Math.max(320, target.clientWidth || box.clientWidth || 800);
  const opts = {
    width, height: c.height || 280,
    scales: { x: { time: false }, y: c.log ? { distr: 3 } : {} },
    axes: [{ label: c.xLabel }, { label: c.yLabel, size: 64 }],
    series: [{ label: c.xLabel }, ...c.series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, dash: s.dash, spanGaps: true, points: { show: false } }))],
    legend: { show: true },
  };
  state.charts.set(c.id, { key, u: new uPlot(opts, data, target) });
}

function draw() {
  state.drawTimer = null;
  for (const c of buildCharts()) {
    try { drawChart(c); } catch (e) { console.error(c.id, e); }
  }
  renderBarriers();
}

function queueDraw() {
  if (state.drawTimer === null) state.drawTimer = setTimeout(draw, 100);
}

window.addEventListener('resize', () => {
  for (const [id, c] of state.charts) {
    const box = document.getElementById(id);
    c.u.setSize({ width: Math.max(320, box.querySelector('.plot').clientWidth || 800), height: c.u.height });
  }
});

// --- barrier matrices and run details -----------------------------------------------------------
function heat(v, max) {
  if (!Number.isFinite(v) || max <= 0) return '#eee';
  const t = Math.min(1, Math.max(0, v / max));
  return `hsl(${Math.round(250 - 200 * t)}, 70%, ${Math.round(30 + 45 * t)}%)`;
}

function renderBarriers() {
  const box = document.getElementById('barriers');
  const parts = [];
  for (const id of state.selected) {
    const r = state.runs.get(id);
    const ap = r && r.detail && r.detail.allPairs;
    if (!ap) continue;
    const max = Math.max(0, ...ap.barrier.flat().filter(Number.isFinite));
    parts.push(el('h3', {}, `Loss barrier between solutions: ${labelOf(id)}`),
      el('table', { class: 'barrier' },
        el('tr', {}, el('th', {}), ...ap.labels.map((l) => el('th', {}, l))),
        ...ap.barrier.map((row, i) => el('tr', {}, el('th', {}, ap.labels[i]),
          ...row.map((v) => el('td', { class: 'num', style: { background: heat(v, max), color: v > max / 2 ? '#000' : '#fff' } }, fmt(v, 3)))))));
  }
  box.replaceChildren(...parts);
}

function renderDetails() {
  const box = document.getElementById('details');
  const parts = [];
  for (const id of state.selected) {
    const r = state.runs.get(id);
    const e = state.byId.get(id);
    const d = r && r.detail;
    const s = (e && e.summary) || (d && d.summary);
    const status = r && r.gone ? 'deleted' : (e && e.status) || (d && d.info.status) || '?';
    const rows = [];
    if (s) {
      rows.push(['Status', status + (e && e.message ? ` (${e.message})` : '')]);
      if (s.iterations !== null) rows.push(['Iterations', int(s.iterations)]);
      if (s.finalTestAccuracy !== null) rows.push(['Final test accuracy', `${pct(s.finalTestAccuracy)} @ ${int(s.finalTestIter)}`]);
      if (s.bestTestAccuracy !== null) rows.push(['Best test accuracy', `${pct(s.bestTestAccuracy)} @ ${int(s.bestTestIter)}`]);
      if (s.finalTrainLoss !== null) rows.push(['Final training loss (mean of last 100)', fmt(s.finalTrainLoss)]);
      if (s.minLr !== null) rows.push(['LR range', `${fmt(s.minLr)}–${fmt(s.maxLr)}`]);
      if (s.interpolation) {
        const t = s.interpolation.train, v = s.interpolation.test;
        rows.push(['Barrier (train / test)', `${fmt(t && t.barrier)} / ${fmt(v && v.barrier)}`]);
        rows.push(['Min-loss α (train / test)', `${fmt(t && t.minAlpha)} / ${fmt(v && v.minAlpha)}`]);
      }
      if (s.rangeSuggestions) {
        const sg = Object.entries(s.rangeSuggestions).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v && typeof v.lr === 'number' ? fmt(v.lr) : JSON.stringify(v)}`);
        rows.push(['Range-test suggestions', sg.join(', ') || '–']);
      }
      if (e && e.report) rows.push(['Report', el('a', { href: e.report, target: '_blank', rel: 'noopener' }, 'open')]);
    } else rows.push(['Status', status]);
    parts.push(el('section', { class: 'run-detail', dataset: { id } },
      el('h3', {}, el('span', { class: 'sw', style: { background: colorOf(id), display: 'inline-block', width: '10px', height: '10px', marginRight: '6px' } }), labelOf(id)),
      el('table', {}, ...rows.map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v)))),
      d ? el('details', {}, el('summary', {}, 'Configuration'), el('pre', {}, JSON.stringify(d.info.config, null, 2))) : null));
  }
  const probs = state.problems.slice(-5);
  if (probs.length) parts.push(el('div', { class: 'err' }, ...probs.map((p) => el('div', {}, p.message))));
  box.replaceChildren(...parts);
}

// --- start ---------------------------------------------------------------------------------------
window.losstopo = {
  state,
  /** Points drawn in a chart (data-points of #chart-<name>). */
  points: (name) => Number(document.getElementById(`chart-${name}`).dataset.points),
};

for (const id of readHash()) { state.selected.push(id); state.runs.set(id, newRunData(id)); fetchDetail(id); }
window.addEventListener('hashchange', () => {
  const want = readHash();
  for (const id of [...state.selected]) if (!want.includes(id)) select(id, false);
  for (const id of want) if (!state.selected.includes(id)) select(id, true);
});
await refreshList();
syncStream();
setInterval(refreshList, LIST_MS);
