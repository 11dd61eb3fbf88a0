/**
 * Training and inference throughput of a model on synthetic batches (the engine's speed, not the
 * loader's). A train step is forward, cross-entropy, backward and an SGD-momentum update; infer is
 * an eval-mode forward without autograd. The PyTorch peer (bench/pytorch_peer.py) measures the same.
 */
import { Optimizer, crossEntropy, labels, noGrad, randn, Generator, setThreads, getThreads, tidy } from '../engine/index.js';
import { buildModel, modelName, resolveModel, type ModelOptions } from '../models/registry.js';

export interface BenchConfig extends ModelOptions {
  model: string;
  batch: number;
  threads: number;
  /** Timed iterations (after warm-up). */
  iters: number;
  warmup: number;
}

export interface BenchResult {
  model: string;
  batch: number;
  threads: number;
  trainImagesPerSec: number;
  inferImagesPerSec: number;
  shortcut: string;
  memoryFormat: string;
  parameters: number;
}

export function runBench(c: BenchConfig, onProgress?: (phase: string, done: number, total: number) => void): BenchResult {
  setThreads(c.threads);
  const cfg = resolveModel(c.model, c);
  const model = buildModel(cfg, 0);
  const gen = new Generator(1);
  const x = randn([c.batch, cfg.inChannels, 32, 32], gen);
  const y = labels(Array.from({ length: c.batch }, (_, i) => i % cfg.classes));
  const opt = new Optimizer('sgd', [{ params: model.parameters() }], { momentumForm: 'pytorch' });
  const trainStep = (): void => tidy(() => {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step({ lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  });
  const inferStep = (): void => tidy(() => { noGrad(() => model.forward(x)); });
  const time = (phase: string, step: () => void): number => {
    for (let i = 0; i < c.warmup; i++) step();
    const t0 = performance.now();
    for (let i = 0; i < c.iters; i++) { step(); onProgress?.(phase, i + 1, c.iters); }
    return (c.iters * c.batch) / ((performance.now() - t0) / 1000);
  };
  model.train();
  const train = time('train', trainStep);
  model.eval();
  const infer = time('infer', inferStep);
  const result: BenchResult = {
    model: modelName(cfg), batch: c.batch, threads: getThreads(), trainImagesPerSec: Math.round(train * 10) / 10,
    inferImagesPerSec: Math.round(infer * 10) / 10, shortcut: cfg.shortcut, memoryFormat: cfg.memoryFormat, parameters: model.numParameters(),
  };
  model.dispose(); x.dispose(); y.dispose();
  return result;
}
