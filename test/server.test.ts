/**
 * Dashboard server: API documents, live server-sent events as metrics.jsonl grows, path safety
 * (traversal, encoded dots, symlinks out of the root), read-only methods, runs deleted while
 * served, and the `losstopo serve` command.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CommandIO } from '../src/cli/command.js';
import { serve } from '../src/cli/commands/serve.js';
import { writeReport } from '../src/report/write.js';
import { type RunningServer, startServer } from '../src/server/server.js';
import { appendMetrics, metricsLines, runJson, tempDir, writeInterpolation, writeRangeTest, writeTrainRun } from './fixtures/report/make.js';

interface Res { status: number; headers: IncomingHttpHeaders; body: string }

/** A raw HTTP request: the path goes on the wire exactly as given (no URL normalisation). */
function raw(base: string, path: string, o: { method?: string; host?: string } = {}): Promise<Res> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: o.method ?? 'GET', headers: o.host ? { host: o.host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
const getJson = async <T>(base: string, path: string): Promise<T> => {
  const r = await raw(base, path);
  assert.equal(r.status, 200, `${path}: ${r.status} ${r.body}`);
  return JSON.parse(r.body) as T;
};

interface Sse { event: string; data: Record<string, unknown> }
/** Follows an SSE stream; waitFor resolves with the first event (after `from`) matching. */
function sse(base: string, path: string): { events: Sse[]; waitFor(pred: (e: Sse) => boolean, what: string, ms?: number): Promise<Sse>; close(): void; status: Promise<number> } {
  const u = new URL(base);
  const events: Sse[] = [];
  const waiters: { pred: (e: Sse) => boolean; resolve: (e: Sse) => void }[] = [];
  let buf = '';
  let req: ReturnType<typeof request>;
  const status = new Promise<number>((resolveStatus) => {
    req = request({ host: u.hostname, port: u.port, path }, (res) => {
      resolveStatus(res.statusCode ?? 0);
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let k: number;
        while ((k = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, k); buf = buf.slice(k + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!ev || data === undefined) continue;
          const e = { event: ev, data: JSON.parse(data) as Record<string, unknown> };
          events.push(e);
          for (const w of [...waiters]) if (w.pred(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e); }
        }
      });
      res.on('error', () => {});
    });
    req.on('error', () => {});
    req.end();
  });
  return {
    events, status,
    waitFor(pred, what, ms = 5000) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; events: ${events.map((e) => e.event).join(',')}`)), ms);
        waiters.push({ pred, resolve: (e) => { clearTimeout(t); resolve(e); } });
      });
    },
    close: () => req.destroy(),
  };
}

let t: { dir: string; done(): void };
let root: string;
let srv: RunningServer;

before(async () => {
  t = tempDir('losstopo-server-');
  root = join(t.dir, 'runs');
  writeTrainRun(join(root, 'clr'), { iters: 300, evalEvery: 100 });
  writeTrainRun(join(root, 'sweep', 'step'), { iters: 200, policy: 'multistep', baseLr: 0.35, name: 'step 0.35', status: 'running' });
  writeRangeTest(join(root, 'rt'), { iters: 100 });
  writeInterpolation(join(root, 'ip'), { allPairs: true });
  writeTrainRun(join(root, 'a', 'b', 'too-deep'), { iters: 10 });
  writeTrainRun(join(root, '.hidden'), { iters: 10 });
  mkdirSync(join(root, 'broken'));
  writeFileSync(join(root, 'broken', 'run.json'), '{"kind": "train"}');
  writeFileSync(join(t.dir, 'secret.txt'), 'outside the root');
  mkdirSync(join(t.dir, 'outside-run'));
  writeFileSync(join(t.dir, 'outside-run', 'run.json'), JSON.stringify(runJson({})));
  symlinkSync(join(t.dir, 'outside-run'), join(root, 'link-out'));
  symlinkSync(join(t.dir, 'secret.txt'), join(root, 'clr', 'secret-link.txt'));
  symlinkSync(join(root, 'clr'), join(root, 'link-in'));
  srv = await startServer({ root, port: 0, pollMs: 50 });
});
after(async () => {
  await srv.close();
  t.done();
});

interface RunsDoc { root: string; runs: { id: string; label: string; color: string; status: string | null; kind: string | null; report: string | null; error?: { message: string }; summary: { bestTestAccuracy: number | null } | null }[]; reports: { id: string; url: string }[] }

describe('dashboard API', () => {
  it('binds 127.0.0.1 on a random port and lists runs one and two levels down', async () => {
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const doc = await getJson<RunsDoc>(srv.url, '/api/runs');
    assert.deepEqual(doc.runs.map((r) => r.id), ['broken', 'clr', 'ip', 'link-in', 'rt', 'sweep/step']);
    const clr = doc.runs.find((r) => r.id === 'clr')!;
    assert.equal(clr.label, 'resnet56 triangular 0.1-1.0');
    assert.equal(clr.status, 'completed');
    assert.ok(Math.abs(clr.summary!.bestTestAccuracy! - (0.1 + 0.8 * (1 - Math.exp(-300 / 250)))) < 1e-6);
    assert.equal(doc.runs.find((r) => r.id === 'sweep/step')!.status, 'running');
    assert.match(doc.runs.find((r) => r.id === 'broken')!.error!.message, /run\.json: status: expected a string/);
    assert.equal(new Set(doc.runs.map((r) => r.color)).size, doc.runs.length, 'one colour per run');
  });

  it('run detail: run.json, range test, interpolation and barrier matrix', async () => {
    const rt = await getJson<{ info: { kind: string }; rangeTest: { points: unknown[] } }>(srv.url, '/api/run?id=rt');
    assert.equal(rt.info.kind, 'range-test');
    assert.equal(rt.rangeTest.points.length, 101);
    const ip = await getJson<{ interpolation: unknown[]; allPairs: { labels: string[] } }>(srv.url, '/api/run?id=ip');
    assert.equal(ip.interpolation.length, 42);
    assert.deepEqual(ip.allPairs.labels, ['cycle 1', 'cycle 2', 'cycle 3']);
    const m = await getJson<{ records: unknown[]; offset: number; lines: number }>(srv.url, '/api/metrics?id=clr&offset=0');
    assert.equal(m.records.length, 303);
    assert.equal(m.lines, 303);
    const r404 = await raw(srv.url, '/api/run?id=nope');
    assert.equal(r404.status, 404);
    assert.deepEqual(Object.keys(JSON.parse(r404.body) as object), ['code', 'message']);
    assert.equal((await raw(srv.url, '/api/run')).status, 400);
    assert.equal((await raw(srv.url, '/api/metrics?id=clr&offset=-3')).status, 400);
  });

  it('serves the page, its script and uPlot from node_modules, with a strict CSP', async () => {
    const page = await raw(srv.url, '/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type']!, /text\/html/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.doesNotMatch(page.body, /https?:\/\/(?!www\.w3\.org)/, 'no external URLs');
    for (const a of ['/assets/app.js', '/assets/app.css', '/assets/uPlot.iife.min.js', '/assets/uPlot.min.css']) assert.equal((await raw(srv.url, a)).status, 200, a);
    const head = await raw(srv.url, '/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('is read-only: other methods get 405 with a JSON error', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await raw(srv.url, '/api/runs', { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
      assert.equal((JSON.parse(r.body) as { code: string }).code, 'method_not_allowed');
    }
  });

  it('answers only loopback host names (DNS rebinding)', async () => {
    assert.equal((await raw(srv.url, '/api/runs', { host: 'evil.example:80' })).status, 403);
    assert.equal((await raw(srv.url, '/api/runs', { host: `localhost:${srv.port}` })).status, 200);
  });
});

describe('path safety', () => {
  it('serves files under the root', async () => {
    const r = await raw(srv.url, '/runs/clr/run.json');
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { kind: string }).kind, 'train');
    assert.match(String(r.headers['content-security-policy']), /default-src 'none'/, 'no scripts from run folders');
    assert.equal((await raw(srv.url, '/runs/link-in/run.json')).status, 200, 'a symlink that stays inside is fine');
  });

  for (const path of [
    '/runs/../secret.txt', '/runs/clr/../../secret.txt', '/runs/%2e%2e/secret.txt', '/runs/%2E%2E/secret.txt',
    '/runs/..%2fsecret.txt', '/runs/clr%2f..%2f..%2fsecret.txt', '/runs/%252e%252e/secret.txt', '/runs//etc/passwd',
    '/runs/%2fetc%2fpasswd', '/runs/.%2e/secret.txt', '/runs/clr/secret-link.txt', '/runs/link-out/run.json',
    '/runs/clr/%00', '/runs/..\\secret.txt', '/runs/%5c..%5csecret.txt', '/assets/../../package.json', '/assets/%2e%2e/package.json',
    '/../secret.txt', '/etc/passwd', '/api/run?id=../outside-run', '/api/run?id=link-out', '/api/run?id=%2Fetc',
    '/api/run?id=clr/../..', '/api/events?run=..%2Foutside-run', '/api/metrics?id=.', '/runs/nope.txt',
  ]) {
    it(`404 for ${path}`, async () => {
      const r = await raw(srv.url, path);
      assert.equal(r.status, 404, `${path} -> ${r.status} ${r.body.slice(0, 80)}`);
      assert.doesNotMatch(r.body, /outside the root/);
      assert.equal((JSON.parse(r.body) as { code: string }).code, 'not_found');
    });
  }
});

describe('live updates', () => {
  it('sends the whole file, then new complete lines as they are appended; a partial line waits for its newline', async () => {
    const f = { iters: 200, policy: 'multistep', baseLr: 0.35 } as const;
    const s = sse(srv.url, '/api/events?run=sweep%2Fstep&offset=0&lines=0');
    try {
      assert.equal(await s.status, 200);
      const first = await s.waitFor((e) => e.event === 'metrics', 'the initial metrics');
      const initial = s.events.filter((e) => e.event === 'metrics').reduce((n, e) => n + (e.data.records as unknown[]).length, 0);
      assert.equal(initial, 202);
      assert.equal(first.data.id, 'sweep/step');
      appendMetrics(join(root, 'sweep', 'step'), metricsLines(f, 200, 210));
      const more = await s.waitFor((e) => e.event === 'metrics' && (e.data.records as { iter: number }[])[0]!.iter === 200, 'appended lines');
      assert.deepEqual((more.data.records as { iter: number }[]).map((r) => r.iter), [200, 201, 202, 203, 204, 205, 206, 207, 208, 209]);
      assert.equal(more.data.lines, 212);
      // Half a line: nothing until the rest arrives.
      const line = metricsLines(f, 210, 211)[0]!;
      appendFileSync(join(root, 'sweep', 'step', 'metrics.jsonl'), line.slice(0, 20));
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(!s.events.some((e) => e.event === 'metrics' && (e.data.records as { iter: number }[]).some((r) => r.iter === 210)));
      appendFileSync(join(root, 'sweep', 'step', 'metrics.jsonl'), line.slice(20) + '\n');
      await s.waitFor((e) => e.event === 'metrics' && (e.data.records as { iter: number }[])[0]!.iter === 210, 'the completed line');
      // A malformed line is reported with its line number and skipped; later lines still arrive.
      appendFileSync(join(root, 'sweep', 'step', 'metrics.jsonl'), '{not json}\n' + metricsLines(f, 211, 212)[0] + '\n');
      const p = await s.waitFor((e) => e.event === 'problem', 'a problem event');
      assert.match(String(p.data.message), /sweep\/step\/metrics\.jsonl:214: not valid JSON/);
      await s.waitFor((e) => e.event === 'metrics' && (e.data.records as { iter: number }[])[0]!.iter === 211, 'the line after the bad one');
      // The run finishes: run.json changes.
      writeFileSync(join(root, 'sweep', 'step', 'run.json'), JSON.stringify(runJson({ ...f, status: 'completed' })));
      const r = await s.waitFor((e) => e.event === 'run', 'a run event');
      assert.equal((r.data.info as { status: string }).status, 'completed');
      // Rewritten from scratch: reset.
      truncateSync(join(root, 'sweep', 'step', 'metrics.jsonl'), 0);
      await s.waitFor((e) => e.event === 'reset', 'a reset event');
    } finally { s.close(); }
  });

  it('a run deleted while followed gets a gone event; the server and other runs carry on', async () => {
    const dir = writeTrainRun(join(root, 'doomed'), { iters: 50, status: 'running' });
    const keep = writeTrainRun(join(root, 'keeper'), { iters: 50, status: 'running' });
    const s = sse(srv.url, '/api/events?run=doomed&run=keeper&offset=0&offset=0');
    try {
      await s.waitFor((e) => e.event === 'metrics' && e.data.id === 'doomed', 'doomed metrics');
      await s.waitFor((e) => e.event === 'metrics' && e.data.id === 'keeper', 'keeper metrics');
      rmSync(dir, { recursive: true, force: true });
      await s.waitFor((e) => e.event === 'gone' && e.data.id === 'doomed', 'gone');
      appendMetrics(keep, metricsLines({}, 50, 55));
      await s.waitFor((e) => e.event === 'metrics' && e.data.id === 'keeper' && (e.data.records as { iter: number }[])[0]!.iter === 50, 'keeper continues');
      const doc = await getJson<RunsDoc>(srv.url, '/api/runs');
      assert.ok(!doc.runs.some((r) => r.id === 'doomed'));
      assert.equal((await raw(srv.url, '/api/run?id=doomed')).status, 404);
      assert.equal((await raw(srv.url, '/api/events?run=doomed')).status, 404);
    } finally {
      s.close();
      rmSync(keep, { recursive: true, force: true });
    }
  });

  it('links a run to its report and lists other report folders', async () => {
    await writeReport([join(root, 'clr')], join(root, 'clr', 'report'), { figures: { maxPoints: 50 } });
    await writeReport([join(root, 'rt')], join(root, 'reports', 'range'), { figures: { maxPoints: 50 } });
    const doc = await getJson<RunsDoc>(srv.url, '/api/runs');
    const clr = doc.runs.find((r) => r.id === 'clr')!;
    assert.equal(clr.report, '/runs/clr/report/index.html');
    assert.deepEqual(doc.reports.map((r) => r.url), ['/runs/reports/range/index.html']);
    const page = await raw(srv.url, clr.report!);
    assert.equal(page.status, 200);
    assert.match(page.body, /losstopo report/);
    assert.equal((await raw(srv.url, '/runs/clr/report/test-accuracy.svg')).headers['content-type'], 'image/svg+xml');
    const redirect = await raw(srv.url, '/runs/clr/report');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/runs/clr/report/');
  });
});

describe('losstopo serve', () => {
  it('--port 0 --json prints {"url"} and the URL on stderr; stops when aborted', async () => {
    const docs: unknown[] = []; const err: string[] = [];
    const io: CommandIO = { json: (d) => docs.push(d), out: () => {}, err: (l) => err.push(l) };
    const ac = new AbortController();
    const done = serve([root, '--port', '0', '--json'], io, ac.signal);
    const t0 = Date.now();
    while (docs.length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    const { url } = docs[0] as { url: string };
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok(err.some((l) => l.includes(url)));
    assert.equal((await raw(url, '/api/runs')).status, 200);
    ac.abort();
    assert.equal(await done, 0);
    await assert.rejects(raw(url, '/api/runs'));
  });

  it('a missing runs folder is one clear error', async () => {
    const io: CommandIO = { json: () => {}, out: () => {}, err: () => {} };
    await assert.rejects(serve([join(t.dir, 'nope'), '--port', '0'], io, new AbortController().signal), /no such runs folder/);
  });
});
