/**
 * The dashboard in a real browser (playwright-core driving Debian's Chromium): curves grow while
 * a run's metrics.jsonl is appended to, two runs overlay, range-test and interpolation views draw,
 * a run deleted while shown is marked so, and a screenshot is a PNG. Skipped, with the reason
 * printed, where /usr/bin/chromium is absent (install it with `apt-get install -y chromium`).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { pngSize } from '../src/report/render.js';
import { type RunningServer, startServer } from '../src/server/server.js';
import { appendMetrics, metricsLines, tempDir, writeInterpolation, writeRangeTest, writeTrainRun } from './fixtures/report/make.js';

const CHROMIUM = process.env.LOSSTOPO_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set LOSSTOPO_CHROMIUM)`;
if (skip) console.log(`# skipping dashboard browser test: ${skip}`);

describe('dashboard in Chromium', () => {
  let t: { dir: string; done(): void };
  let srv: RunningServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const live = { iters: 100, evalEvery: 10, status: 'running', name: 'live run' };

  before(async () => {
    if (skip) return;
    t = tempDir('losstopo-browser-');
    const root = join(t.dir, 'runs');
    writeTrainRun(join(root, 'live'), live);
    writeTrainRun(join(root, 'other'), { iters: 300, evalEvery: 50, policy: 'multistep', baseLr: 0.35, name: 'step 0.35' });
    writeRangeTest(join(root, 'rt'), { iters: 100 });
    writeInterpolation(join(root, 'ip'), { allPairs: true, name: 'CLR solutions' });
    srv = await startServer({ root, port: 0, pollMs: 100 });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
    t?.done();
  });

  const points = (name: string): Promise<number> => page.evaluate((n) => Number(document.getElementById(`chart-${n}`)!.dataset.points), name);

  it('curves grow while the run trains', { skip }, async () => {
    await page.goto(`${srv.url}#runs=live`);
    await page.waitForFunction(() => Number(document.getElementById('chart-loss')!.dataset.points) > 0, null, { timeout: 10000 });
    const loss0 = await points('loss'), acc0 = await points('acc');
    assert.equal(acc0, 10, 'one accuracy point per evaluation');
    appendMetrics(join(srv.root, 'live'), metricsLines(live, 100, 150));
    await page.waitForFunction((n) => Number(document.getElementById('chart-loss')!.dataset.points) > n, loss0, { timeout: 10000 });
    await page.waitForFunction(() => Number(document.getElementById('chart-acc')!.dataset.points) === 15, null, { timeout: 10000 });
    assert.ok((await points('loss')) >= loss0 + 50);
    assert.ok(await page.locator('#runs li[data-id="live"] .status.running').count());
  });

  it('overlays a second run', { skip }, async () => {
    await page.locator('#runs li[data-id="other"] input[type=checkbox]').check();
    await page.waitForFunction(() => document.getElementById('chart-acc')!.dataset.series === '2', null, { timeout: 10000 });
    const legend = await page.locator('#chart-acc .u-legend').innerText();
    assert.ok(legend.includes('live run') && legend.includes('step 0.35'), legend);
    assert.equal(await points('acc'), 15 + 6);
    assert.match(page.url(), /#runs=live,other$/);
  });

  it('range-test and interpolation views, and the barrier matrix', { skip }, async () => {
    await page.locator('#runs li[data-id="rt"] input[type=checkbox]').check();
    await page.locator('#runs li[data-id="ip"] input[type=checkbox]').check();
    await page.waitForFunction(() => Number(document.getElementById('chart-range')!.dataset.points) > 0 && Number(document.getElementById('chart-interp')!.dataset.points) > 0, null, { timeout: 10000 });
    assert.equal(await points('interp'), 42);
    assert.equal(await page.locator('#barriers td').count(), 9);
  });

  it('a run deleted while shown is marked deleted; the page keeps working; screenshot', { skip }, async () => {
    rmSync(join(srv.root, 'other'), { recursive: true, force: true });
    await page.waitForSelector('#runs li[data-id="other"] .status.deleted', { timeout: 10000 });
    appendMetrics(join(srv.root, 'live'), metricsLines(live, 150, 160));
    await page.waitForFunction(() => Number(document.getElementById('chart-acc')!.dataset.points) >= 16, null, { timeout: 10000 });
    const shot = join(t.dir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    assert.ok(png.length > 0);
    const size = pngSize(png);
    assert.ok(size.width >= 1200 && size.height > 0, `${size.width}x${size.height}`);
    assert.deepEqual(pageErrors, []);
  });
});
