/** Layers: Conv2d, BatchNorm2d, Linear, Sequential and friends, PyTorch-compatible names. */
import { Module } from './module.js';
import { Generator, batchNorm, conv2d, globalAvgPool, linear, ones, randn, uniform, zeros, type Conv2dOptions } from './ops.js';
import { Tensor } from './tensor.js';

export type Init = 'msra' | 'pytorch';

export interface Conv2dConfig extends Conv2dOptions { bias?: boolean; init?: Init }
export const conv2dDefaults: Readonly<Required<Omit<Conv2dConfig, 'stride' | 'padding' | 'dilation'>>> & Conv2dOptions =
  Object.freeze({ bias: true, init: 'pytorch' as Init, groups: 1 });

/**
 * Weight init. `msra`: Caffe's MSRAFiller, N(0, sqrt(2/fan_in)); `pytorch`: PyTorch's default,
 * U(+-1/sqrt(fan_in)) for weights (kaiming_uniform with a=sqrt(5)) and biases.
 */
export function initWeight(shape: number[], fanIn: number, init: Init, gen: Generator): Tensor {
  if (init === 'msra') {
    const t = randn(shape, gen);
    t.mul_(Math.sqrt(2 / fanIn));
    return t;
  }
  const b = 1 / Math.sqrt(fanIn);
  return uniform(shape, -b, b, gen);
}

export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly opts: Conv2dOptions;
  constructor(readonly inCh: number, readonly outCh: number, readonly kernel: number, gen: Generator, cfg: Conv2dConfig = {}) {
    super();
    const c = { ...conv2dDefaults, ...cfg };
    const fanIn = (inCh / (c.groups ?? 1)) * kernel * kernel;
    this.opts = { stride: c.stride ?? 1, padding: c.padding ?? 0, dilation: c.dilation ?? 1, groups: c.groups ?? 1 };
    this.weight = this.registerParameter('weight', initWeight([outCh, inCh / (c.groups ?? 1), kernel, kernel], fanIn, c.init, gen));
    this.bias = c.bias ? this.registerParameter('bias', c.init === 'msra' ? zeros([outCh]) : uniform([outCh], -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), gen)) : null;
  }
  forward(x: Tensor): Tensor { return conv2d(x, this.weight, this.bias, this.opts); }
  protected override onParameterReplaced(name: string, t: Tensor): void { if (name === 'weight') this.weight = t; }
}

export interface BatchNormConfig { eps?: number; momentum?: number; affine?: boolean }
export const batchNormDefaults: Readonly<Required<BatchNormConfig>> = Object.freeze({ eps: 1e-5, momentum: 0.1, affine: true });

export class BatchNorm2d extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly cfg: Required<BatchNormConfig>;
  constructor(readonly channels: number, cfg: BatchNormConfig = {}) {
    super();
    this.cfg = { ...batchNormDefaults, ...cfg };
    this.weight = this.cfg.affine ? this.registerParameter('weight', ones([channels])) : null;
    this.bias = this.cfg.affine ? this.registerParameter('bias', zeros([channels])) : null;
    this.runningMean = this.registerBuffer('running_mean', zeros([channels]));
    this.runningVar = this.registerBuffer('running_var', ones([channels]));
    // Kept for state_dict compatibility with PyTorch (it counts training batches).
    this.registerBuffer('num_batches_tracked', zeros([], 'int64'));
  }
  forward(x: Tensor): Tensor {
    if (this.training) this.buffer('num_batches_tracked').add_(1);
    return batchNorm(x, { weight: this.weight, bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar,
      training: this.training, momentum: this.cfg.momentum, eps: this.cfg.eps });
  }
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, gen: Generator, cfg: { bias?: boolean; init?: Init } = {}) {
    super();
    const init = cfg.init ?? 'pytorch';
    this.weight = this.registerParameter('weight', initWeight([outFeatures, inFeatures], inFeatures, init, gen));
    const b = 1 / Math.sqrt(inFeatures);
    this.bias = cfg.bias ?? true ? this.registerParameter('bias', init === 'msra' ? zeros([outFeatures]) : uniform([outFeatures], -b, b, gen)) : null;
  }
  forward(x: Tensor): Tensor { return linear(x, this.weight, this.bias); }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return x.relu(); }
}

export class GlobalAvgPool extends Module {
  forward(x: Tensor): Tensor { return globalAvgPool(x); }
}

/** Children named "0", "1", ... as in torch.nn.Sequential. Intermediate results are freed. */
export class Sequential extends Module {
  private readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }
  get length(): number { return this.layers.length; }
  at(i: number): Module { return this.layers[i]!; }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const m of this.layers) {
      const next = m.forward(h);
      if (h !== x) h.dispose();
      h = next;
    }
    return h;
  }
}
