/**
 * The dashboard server: a read-only HTTP server over a runs folder.
 *
 * Routes (GET and HEAD only; anything else is 405):
 *   /                      the dashboard page (src/server/web/)
 *   /assets/<file>         its script and styles, and uPlot's dist files from node_modules
 *   /api/runs              {root, runs:[RunListEntry], reports:[{id,title,url}]}
 *   /api/run?id=ID         {id, info, summary, rangeTest, interpolation, allPairs, report}
 *   /api/metrics?id=ID&offset=N&lines=L
 *                          {records, offset, lines, shrunk}: complete metrics.jsonl lines after byte N
 *   /api/events?run=ID&offset=N&lines=L[&run=...]
 *                          server-sent events following one or more runs: `metrics`
 *                          {id, records, offset, lines}, `reset` {id} (file rewritten),
 *                          `run` {id, info} (run.json changed), `detail` {id} (range-test,
 *                          interpolation or all-pairs file changed), `gone` {id} (deleted),
 *                          `problem` {id, code, message} (a malformed line, skipped)
 *   /runs/<path>           files under the root (reports, figures, metrics), never outside it
 *
 * Errors are JSON {code, message} with a 4xx status. The server binds 127.0.0.1 unless told
 * otherwise and, when bound to a loopback address, answers only requests addressed to a loopback
 * host name (DNS rebinding). Files are polled (bounded interval), so runs may appear, finish or be
 * deleted while it runs.
 */
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LosstopoError, isLosstopoError } from '../errors.js';
import { RUN_FILES, parseAllPairs, parseInterpolationRecord, parseJsonl, parseMetricRecord, parseRangeTest, readLinesFrom, readRunInfo } from '../report/read.js';
import type { MetricRecord } from '../report/records.js';
import { decodeSegments, idSegments, resolveUnder } from './paths.js';
import { RunIndex, infoFields, runsUrl, toId } from './runs.js';

export interface ServerOptions {
  /** The runs folder. */
  root: string;
  /** 0 picks a free port. Default 8080. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** How often followed files are polled, ms (bounded to 50..5000). Default 500. */
  pollMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  root: string;
  close(): Promise<void>;
}

const WEB = fileURLToPath(new URL('./web/', import.meta.url));
const UPLOT = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

const assets: Record<string, string> = {
  'app.js': join(WEB, 'app.js'),
  'app.css': join(WEB, 'app.css'),
  'uPlot.iife.min.js': join(UPLOT, 'uPlot.iife.min.js'),
  'uPlot.min.css': join(UPLOT, 'uPlot.min.css'),
};

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8', '.jsonl': 'text/plain; charset=utf-8', '.log': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8', '.md': 'text/plain; charset=utf-8', '.yaml': 'text/plain; charset=utf-8', '.yml': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.csv': 'text/plain; charset=utf-8',
};

/** The page and its assets: scripts only from this server. */
const pageCsp = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** Files from the runs folder (reports, SVGs): no scripts at all. */
const filesCsp = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

const MAX_RUNS_PER_STREAM = 64;
const MAX_RECORDS_PER_EVENT = 5000;

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message); }
}
const notFound = (what = 'not found'): HttpError => new HttpError(404, 'not_found', what);

function sendJson(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-length': Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const isLoopback = (h: string): boolean => loopbackHosts.has(h) || h.startsWith('127.');

function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(header.trim().toLowerCase());
  return m ? m[1]! : null;
}

interface Watch {
  id: string;
  dir: string;
  offset: number;
  lines: number;
  runSig: string | null;
  detailSig: string | null;
}

async function sig(file: string): Promise<string> {
  try { const s = await stat(file); return `${s.size}:${s.mtimeMs}`; } catch { return '-'; }
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  let root: string;
  try {
    root = realpathSync(o.root);
    if (!statSync(root).isDirectory()) throw new Error('not a folder');
  } catch {
    throw new LosstopoError({ code: 'missing_file', file: o.root }, 'no such runs folder');
  }
  const host = o.host ?? '127.0.0.1';
  const pollMs = Math.min(5000, Math.max(50, o.pollMs ?? 500));
  const index = new RunIndex(root);
  const streams = new Set<ServerResponse>();
  const loopbackOnly = isLoopback(host);

  /** A run id -> its folder (real path, under the root, holding run.json), or a 404. */
  async function runDir(id: string | null): Promise<string> {
    if (id === null) throw new HttpError(400, 'bad_request', 'missing ?id= (a run id from /api/runs)');
    const segs = idSegments(id);
    const dir = segs && (await resolveUnder(root, segs));
    if (!dir) throw notFound(`no run ${JSON.stringify(id)}`);
    try { if (!(await stat(join(dir, RUN_FILES.run))).isFile()) throw new Error(); } catch { throw notFound(`no run ${JSON.stringify(id)}`); }
    return dir;
  }

  async function serveFile(req: IncomingMessage, res: ServerResponse, file: string, csp: string, head: boolean): Promise<void> {
    let s;
    try { s = await stat(file); } catch { throw notFound(); }
    if (!s.isFile()) throw notFound();
    res.writeHead(200, {
      'content-type': types[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': s.size, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff',
      'content-security-policy': csp, 'referrer-policy': 'no-referrer',
    });
    if (head) { res.end(); return; }
    await new Promise<void>((resolveP) => {
      const st = createReadStream(file);
      st.on('error', () => { res.destroy(); resolveP(); }); // deleted while streaming
      st.on('end', () => resolveP());
      req.on('close', () => { st.destroy(); resolveP(); });
      st.pipe(res);
    });
  }

  async function detail(id: string, dir: string): Promise<Record<string, unknown>> {
    const info = readRunInfo(dir);
    const readOpt = async <T>(name: string, f: (text: string, file: string) => T): Promise<T | null> => {
      const file = join(dir, name);
      let text: string;
      try { text = await readFile(file, 'utf8'); } catch { return null; }
      return f(text, file);
    };
    const json = (text: string, file: string): unknown => {
      try { return JSON.parse(text); } catch (e) { throw new LosstopoError({ code: 'parse_error', file }, `not valid JSON (${(e as Error).message})`); }
    };
    const entry = await index.entry(dir);
    return {
      id, info, label: entry.label, summary: entry.summary, report: entry.report,
      rangeTest: await readOpt(RUN_FILES.rangeTest, (t, f) => parseRangeTest(json(t, f), f)),
      interpolation: await readOpt(RUN_FILES.interpolation, (t, f) => parseJsonl(t, f, parseInterpolationRecord).records),
      allPairs: await readOpt(RUN_FILES.allPairs, (t, f) => parseAllPairs(json(t, f), f)),
    };
  }

  /** Complete metrics lines after a watch's offset; malformed lines become problems and are skipped. */
  function readMetrics(w: Watch): { records: MetricRecord[]; problems: { code: string; message: string }[]; shrunk: boolean } {
    const file = join(w.dir, RUN_FILES.metrics);
    const c = readLinesFrom(file, w.offset, 8 * 1024 * 1024);
    if (c.shrunk) return { records: [], problems: [], shrunk: true };
    const records: MetricRecord[] = [];
    const problems: { code: string; message: string }[] = [];
    c.lines.forEach((line, i) => {
      if (line.trim() === '') return;
      const where = { file: `${w.id}/${RUN_FILES.metrics}`, line: w.lines + i + 1 };
      try {
        records.push(parseMetricRecord(JSON.parse(line), where));
      } catch (e) {
        const err = isLosstopoError(e) ? e : new LosstopoError({ code: 'parse_error', ...where }, `not valid JSON (${(e as Error).message})`);
        problems.push({ code: err.info.code, message: err.format() });
      }
    });
    w.offset = c.offset;
    w.lines += c.lines.length;
    return { records, problems, shrunk: false };
  }

  function events(req: IncomingMessage, res: ServerResponse, watches: Watch[], head: boolean): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
    if (head) { res.end(); return; }
    streams.add(res);
    const send = (event: string, data: unknown): void => { res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`); };
    res.write('retry: 2000\n\n');
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    let lastPing = Date.now();
    const stop = (): void => { closed = true; if (timer) clearTimeout(timer); streams.delete(res); };
    req.on('close', stop);
    res.on('close', stop);
    const tick = async (): Promise<void> => {
      for (const w of [...watches]) {
        if (closed) return;
        try {
          const rs = await sig(join(w.dir, RUN_FILES.run));
          if (rs === '-') {
            send('gone', { id: w.id });
            watches.splice(watches.indexOf(w), 1);
            continue;
          }
          if (rs !== w.runSig) {
            const first = w.runSig === null;
            w.runSig = rs;
            if (!first) {
              try { send('run', { id: w.id, info: infoFields(readRunInfo(w.dir)) }); } catch { w.runSig = null; /* being rewritten: next tick */ }
            }
          }
          const ds = (await Promise.all([RUN_FILES.rangeTest, RUN_FILES.interpolation, RUN_FILES.allPairs].map((f) => sig(join(w.dir, f))))).join('|');
          if (ds !== w.detailSig) { if (w.detailSig !== null) send('detail', { id: w.id }); w.detailSig = ds; }
          for (let guard = 0; guard < 64 && !closed; guard++) {
            const m = readMetrics(w);
            if (m.shrunk) { w.offset = 0; w.lines = 0; send('reset', { id: w.id }); continue; }
            for (const p of m.problems) send('problem', { id: w.id, ...p });
            for (let i = 0; i < m.records.length; i += MAX_RECORDS_PER_EVENT) {
              send('metrics', { id: w.id, records: m.records.slice(i, i + MAX_RECORDS_PER_EVENT), offset: w.offset, lines: w.lines });
            }
            if (m.records.length === 0 && m.problems.length === 0) break;
          }
        } catch (e) {
          send('problem', { id: w.id, code: isLosstopoError(e) ? e.info.code : 'internal', message: isLosstopoError(e) ? e.format() : (e as Error).message });
        }
      }
      if (Date.now() - lastPing > 15000) { res.write(': ping\n\n'); lastPing = Date.now(); }
      if (!closed) timer = setTimeout(() => { void tick(); }, pollMs);
    };
    void tick();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const head = method === 'HEAD';
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      throw new HttpError(405, 'method_not_allowed', `${method} is not allowed: the dashboard is read-only (GET, HEAD)`);
    }
    if (loopbackOnly) {
      const h = hostOf(req.headers.host);
      if (h === null || !isLoopback(h)) throw new HttpError(403, 'forbidden_host', 'requests must be addressed to localhost or 127.0.0.1');
    }
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const rawPath = q >= 0 ? raw.slice(0, q) : raw;
    const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
    if (!rawPath.startsWith('/')) throw notFound();

    if (rawPath === '/' || rawPath === '/index.html') return serveFile(req, res, join(WEB, 'index.html'), pageCsp, head);
    if (rawPath === '/favicon.ico') { res.writeHead(204); res.end(); return; }
    if (rawPath.startsWith('/assets/')) {
      const file = assets[rawPath.slice('/assets/'.length)];
      if (!file) throw notFound();
      return serveFile(req, res, file, pageCsp, head);
    }
    if (rawPath === '/api/runs') {
      const { runs, reports } = await index.list();
      return sendJson(res, 200, { root, runs, reports }, head);
    }
    if (rawPath === '/api/run') {
      const id = query.get('id');
      const dir = await runDir(id);
      return sendJson(res, 200, await detail(id!, dir), head);
    }
    if (rawPath === '/api/metrics') {
      const id = query.get('id');
      const dir = await runDir(id);
      const w: Watch = { id: id!, dir, offset: nonNegInt(query.get('offset'), 'offset'), lines: nonNegInt(query.get('lines'), 'lines'), runSig: null, detailSig: null };
      const m = readMetrics(w);
      return sendJson(res, 200, { id, records: m.records, problems: m.problems, offset: m.shrunk ? 0 : w.offset, lines: m.shrunk ? 0 : w.lines, shrunk: m.shrunk }, head);
    }
    if (rawPath === '/api/events') {
      const ids = query.getAll('run');
      const offsets = query.getAll('offset'), lines = query.getAll('lines');
      if (ids.length === 0) throw new HttpError(400, 'bad_request', 'missing ?run= (one per followed run, each with optional offset= and lines=)');
      if (ids.length > MAX_RUNS_PER_STREAM) throw new HttpError(400, 'bad_request', `at most ${MAX_RUNS_PER_STREAM} runs per stream`);
      const watches: Watch[] = [];
      for (const [i, id] of ids.entries()) {
        watches.push({ id, dir: await runDir(id), offset: nonNegInt(offsets[i] ?? null, 'offset'), lines: nonNegInt(lines[i] ?? null, 'lines'), runSig: null, detailSig: null });
      }
      return events(req, res, watches, head);
    }
    if (rawPath === '/runs' || rawPath.startsWith('/runs/')) {
      const segs = decodeSegments(rawPath.slice('/runs/'.length));
      if (segs === null) throw notFound();
      const real = await resolveUnder(root, segs);
      if (!real) throw notFound();
      let s;
      try { s = await stat(real); } catch { throw notFound(); }
      if (s.isDirectory()) {
        if (!rawPath.endsWith('/') && segs.length > 0) {
          res.writeHead(301, { location: runsUrl(toId(root, join(root, ...segs))) + '/' }); res.end(); return;
        }
        return serveFile(req, res, join(real, 'index.html'), filesCsp, head);
      }
      return serveFile(req, res, real, filesCsp, head);
    }
    throw notFound();
  }

  function nonNegInt(v: string | null, name: string): number {
    if (v === null || v === '') return 0;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new HttpError(400, 'bad_request', `${name}: expected an integer >= 0, received ${JSON.stringify(v)}`);
    return n;
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const head = req.method === 'HEAD';
      if (res.headersSent) { res.destroy(); return; }
      if (e instanceof HttpError) return sendJson(res, e.status, { code: e.code, message: e.message }, head);
      if (isLosstopoError(e)) return sendJson(res, 422, { ...e.toJSON(), message: e.format() }, head);
      sendJson(res, 500, { code: 'internal', message: (e as Error)?.message ?? String(e) }, head);
    });
  });
  server.on('clientError', (_e, socket) => { socket.destroy(); });
  await new Promise<void>((resolveP, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new LosstopoError({ code: 'invalid_option', path: '--port', received: String(o.port ?? 8080) },
      e.code === 'EADDRINUSE' ? `port ${o.port ?? 8080} is in use on ${host}; choose another with --port (0 picks a free one)` : `cannot listen on ${host}:${o.port ?? 8080} (${e.code ?? e.message})`)));
    server.listen(o.port ?? 8080, host, () => resolveP());
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' || host.includes(':') ? `[${addr.address}]` : host;
  return {
    url: `http://${urlHost}:${addr.port}/`,
    port: addr.port, host, root,
    close: () => new Promise<void>((resolveP) => {
      for (const s of streams) s.end();
      streams.clear();
      server.close(() => resolveP());
      server.closeAllConnections();
    }),
  };
}
