import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Optimizer, crossEntropy, labels, memory, noGrad, randn, Generator, tidy, Tensor } from '../src/engine/index.js';
import { buildModel, resolveModel } from '../src/models/registry.js';
import { stagesForDepth } from '../src/models/resnet.js';
import { noLeak } from './helpers/engine.js';

const keys = JSON.parse(readFileSync(new URL('./fixtures/engine/state-dict-keys.json', import.meta.url), 'utf8')) as Record<string, [string, number[]][]>;

test('parameter counts match the CIFAR ResNets of He et al. (option A) and the projection ResNet-20', () => noLeak(() => {
  const count = (name: string, shortcut: 'subsample' | 'projection' | 'avgpool'): number => {
    const m = buildModel(resolveModel(name, { shortcut }), 0);
    const n = m.numParameters(); m.dispose(); return n;
  };
  assert.equal(Math.round(count('resnet20', 'subsample') / 1e4) / 100, 0.27);
  assert.equal(Math.round(count('resnet56', 'subsample') / 1e4) / 100, 0.85);
  assert.equal(Math.round(count('resnet110', 'subsample') / 1e5) / 10, 1.7);
  assert.equal(count('resnet20', 'projection'), 272474);
  assert.equal(count('resnet20', 'avgpool'), count('resnet20', 'subsample'));
}));

test('state_dict names, order and shapes equal PyTorch\'s for the same architecture', () => noLeak(() => {
  for (const [key, expected] of Object.entries(keys)) {
    const [name, shortcut] = key.split('-') as [string, 'projection' | 'avgpool' | 'subsample'];
    const m = buildModel(resolveModel(name, { shortcut }), 0);
    const ours = [...m.stateDict()].map(([k, t]) => [k, t.shape]);
    m.dispose();
    assert.deepEqual(ours, expected, key);
  }
}));

test('stage counts: 6n+2 depths split evenly, others spread with later stages larger', () => {
  assert.deepEqual(stagesForDepth(20), [3, 3, 3]);
  assert.deepEqual(stagesForDepth(110), [18, 18, 18]);
  assert.deepEqual(stagesForDepth(52), [8, 8, 9]);
  assert.deepEqual(stagesForDepth(60), [9, 10, 10]);
  assert.throws(() => stagesForDepth(21), /even and >= 8/);
  assert.throws(() => resolveModel('resnt20'), /did you mean resnet20/);
});

test('the same seed builds the same network; another seed a different one; both memory formats agree', () => noLeak(() => tidy(() => {
  const a = buildModel(resolveModel('resnet8', { memoryFormat: 'contiguous' }), 3);
  const b = buildModel(resolveModel('resnet8', { memoryFormat: 'channels_last' }), 3);
  const c = buildModel(resolveModel('resnet8'), 4);
  assert.deepEqual(a.flatParameters(), b.flatParameters());
  assert.notDeepEqual(a.flatParameters(), c.flatParameters());
  const x = randn([4, 3, 32, 32], new Generator(0));
  a.eval(); b.eval();
  const ya = noGrad(() => a.forward(x)).toFloat64(), yb = noGrad(() => b.forward(x)).toFloat64();
  ya.forEach((v, i) => assert.ok(Math.abs(v - yb[i]!) < 1e-4, `output ${i}`));
  [a, b, c].forEach((m) => m.dispose());
})));

test('flat parameters round-trip, and loadStateDict checks names and shapes before changing anything', () => noLeak(() => tidy(() => {
  const m = buildModel(resolveModel('resnet8'), 1);
  const flat = m.flatParameters();
  const other = buildModel(resolveModel('resnet8'), 2);
  other.setFlatParameters(flat);
  assert.deepEqual(other.flatParameters(), Float64Array.from(flat, (v) => Math.fround(v)));
  assert.throws(() => other.setFlatParameters(new Float64Array(3)), /expected \d+ values, received 3/);
  const sd = new Map(m.stateDict());
  sd.delete('fc.bias');
  assert.throws(() => other.loadStateDict(sd), /missing \[fc.bias\]/);
  const bad = new Map(m.stateDict());
  bad.set('fc.weight', Tensor.fromData(new Float32Array(4), [2, 2]));
  const before = other.flatParameters();
  assert.throws(() => other.loadStateDict(bad), /fc.weight: expected shape \[10, 64\], received \[2, 2\]/);
  assert.deepEqual(other.flatParameters(), before);
  m.dispose(); other.dispose();
})));

test('train and eval modes differ (batch vs running statistics) and training updates BN buffers', () => noLeak(() => tidy(() => {
  const m = buildModel(resolveModel('resnet8'), 1);
  const x = randn([8, 3, 32, 32], new Generator(5));
  const rmBefore = m.stateDict().get('bn1.running_mean')!.toFloat64();
  const train = noGrad(() => m.train().forward(x)).toFloat64();
  assert.notDeepEqual(m.stateDict().get('bn1.running_mean')!.toFloat64(), rmBefore);
  assert.equal(m.stateDict().get('bn1.num_batches_tracked')!.item(), 1);
  const evalOut = noGrad(() => m.eval().forward(x)).toFloat64();
  assert.notDeepEqual(train, evalOut);
  m.dispose();
})));

test('native memory stays flat over 500 training steps', () => {
  const m = buildModel(resolveModel('resnet8', { widthMult: 0.5 }), 0);
  const opt = new Optimizer('sgd', [{ params: m.parameters() }]);
  const x = randn([8, 3, 32, 32], new Generator(1));
  const y = labels([0, 1, 2, 3, 4, 5, 6, 7]);
  const step = (): number => tidy(() => {
    opt.zeroGrad();
    const loss = crossEntropy(m.forward(x), y);
    loss.backward();
    opt.step({ lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
    return loss.item();
  });
  for (let i = 0; i < 10; i++) step();
  const before = memory();
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 500; i++) step();
  const after = memory();
  assert.deepEqual(after, before);
  const growthMb = (process.memoryUsage().rss - rss0) / 2 ** 20;
  assert.ok(growthMb < 50, `RSS grew by ${growthMb.toFixed(1)} MB over 500 steps`);
  m.dispose(); x.dispose(); y.dispose();
});

test('inference with batch norm folded into the convolutions equals the unfolded eval forward', () => noLeak(() => tidy(() => {
  const m = buildModel(resolveModel('resnet8', { shortcut: 'projection' }), 7);
  const x = randn([6, 3, 32, 32], new Generator(8));
  // A few training forwards give non-trivial running statistics.
  noGrad(() => { for (let i = 0; i < 3; i++) m.train().forward(x.mul(i + 1)); });
  m.eval();
  const unfolded = m.forward(x).toFloat64(); // autograd on: the plain conv -> BN path
  const folded = noGrad(() => m.forward(x)).toFloat64();
  folded.forEach((v, i) => assert.ok(Math.abs(v - unfolded[i]!) < 1e-4 * Math.max(1, Math.abs(unfolded[i]!)), `logit ${i}: ${v} vs ${unfolded[i]}`));
  m.dispose();
})));
