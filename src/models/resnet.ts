/**
 * CIFAR ResNet (He et al. 2016, section 4.2): a 3x3 stem, three stages of basic blocks at widths
 * w, 2w, 4w (w = 16 x widthMult) with stride 2 at the start of stages 2 and 3, global average
 * pooling and a linear classifier. Depth 6n+2 gives n blocks a stage; any per-stage counts may be
 * given instead (the paper's ResNet-52 and -60 are not 6n+2).
 *
 * Shortcuts where the shape changes:
 * - `avgpool`: the authors' Caffe nets: 3x3 stride-2 average pooling (Caffe's ceil rounding)
 *   concatenated with zero channels;
 * - `subsample`: option A, x[:, :, ::2, ::2] with zero channels padded on both sides;
 * - `projection`: option B, 1x1 stride-2 convolution + batch norm.
 * Parameter names follow PyTorch (`layer2.0.conv1.weight`, `layer2.0.shortcut.0.weight`, `fc.bias`).
 */
import {
  BatchNorm2d, Conv2d, Generator, Linear, Module, Sequential, Tensor, avgPool2d, cat, conv2d, globalAvgPool, isGradEnabled, pad, zeros,
  type Init, type MemoryFormat,
} from '../engine/index.js';
import { LosstopoError } from '../errors.js';

export type Shortcut = 'avgpool' | 'subsample' | 'projection';
export const shortcuts: readonly Shortcut[] = ['avgpool', 'subsample', 'projection'];

export interface ResNetConfig {
  arch: 'resnet';
  /** Blocks per stage, e.g. [3, 3, 3] for ResNet-20. */
  stages: number[];
  /** Base width (channels of the stem and first stage) before widthMult. */
  width: number;
  widthMult: number;
  inChannels: number;
  classes: number;
  shortcut: Shortcut;
  init: Init;
  bnMomentum: number;
  bnEps: number;
  /** Layout of activations and conv weights; channels-last is faster with oneDNN. */
  memoryFormat: MemoryFormat;
}

export const resnetDefaults: Readonly<Omit<ResNetConfig, 'stages'>> = Object.freeze({
  arch: 'resnet',
  width: 16,
  widthMult: 1,
  inChannels: 3,
  classes: 10,
  shortcut: 'avgpool',
  init: 'msra',
  bnMomentum: 0.1,
  bnEps: 1e-5,
  memoryFormat: 'channels_last',
});

/** Blocks per stage for a depth: 6n+2 -> [n, n, n]; otherwise spread (depth-2)/2 blocks, later stages first. */
export function stagesForDepth(depth: number): number[] {
  if (!Number.isInteger(depth) || depth < 8 || depth % 2 !== 0)
    throw new LosstopoError({ code: 'invalid_config', path: 'model', received: String(depth), expected: 'an even depth >= 8' },
      `expected a ResNet depth that is even and >= 8 (20, 32, 44, 56, 110, ...), received ${depth}`);
  const blocks = (depth - 2) / 2;
  const base = Math.floor(blocks / 3);
  const stages = [base, base, base];
  for (let i = 0; i < blocks - 3 * base; i++) stages[2 - i]! += 1;
  return stages;
}

export const depthOf = (stages: readonly number[]): number => 2 * stages.reduce((a, b) => a + b, 0) + 2;

/**
 * conv followed by batch norm. In inference (eval mode, no autograd) the BN is folded into the
 * convolution: w' = w * g/sqrt(v+eps), b' = b - m * g/sqrt(v+eps), which skips a pass over the
 * activations. Folding is recomputed each call (it costs a few small ops) so it is always in
 * step with the weights, which interpolation changes between calls.
 */
export function convBn(conv: Conv2d, bn: BatchNorm2d, x: Tensor): Tensor {
  if (bn.training || isGradEnabled() || conv.bias) {
    const c = conv.forward(x);
    const out = bn.forward(c);
    c.dispose();
    return out;
  }
  const scale = bn.runningVar.add(bn.cfg.eps).sqrt();
  const inv = bn.weight ? bn.weight.div(scale) : scale.pow(-1);
  scale.dispose();
  const w = conv.weight.mul(inv.reshape([-1, 1, 1, 1]));
  const shift = bn.runningMean.mul(inv);
  const b = bn.bias ? bn.bias.sub(shift) : shift.neg();
  const out = conv2d(x, w, b, conv.opts);
  for (const t of [inv, w, shift, b]) t.dispose();
  return out;
}

class AvgPoolShortcut extends Module {
  constructor(private readonly extra: number) { super(); }
  forward(x: Tensor): Tensor {
    const p = avgPool2d(x, 3, { stride: 2, ceilMode: true });
    const [n, , h, w] = p.shape as [number, number, number, number];
    const z = zeros([n, this.extra, h, w]);
    const out = cat([p, z], 1);
    p.dispose(); z.dispose();
    return out;
  }
}

class SubsampleShortcut extends Module {
  constructor(private readonly extra: number) { super(); }
  forward(x: Tensor): Tensor {
    const s = avgPool2d(x, 1, { stride: 2 });
    const half = this.extra / 2;
    const out = pad(s, [0, 0, 0, 0, Math.floor(half), Math.ceil(half)]);
    s.dispose();
    return out;
  }
}

export class BasicBlock extends Module {
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d; readonly conv2: Conv2d; readonly bn2: BatchNorm2d;
  readonly shortcut: Module | null;
  constructor(inCh: number, outCh: number, stride: number, cfg: ResNetConfig, gen: Generator) {
    super();
    const bn = { momentum: cfg.bnMomentum, eps: cfg.bnEps };
    this.conv1 = this.registerModule('conv1', new Conv2d(inCh, outCh, 3, gen, { stride, padding: 1, bias: false, init: cfg.init }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(outCh, bn));
    this.conv2 = this.registerModule('conv2', new Conv2d(outCh, outCh, 3, gen, { stride: 1, padding: 1, bias: false, init: cfg.init }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(outCh, bn));
    if (stride === 1 && inCh === outCh) this.shortcut = null;
    else if (cfg.shortcut === 'projection')
      this.shortcut = this.registerModule('shortcut', new Sequential(
        new Conv2d(inCh, outCh, 1, gen, { stride, bias: false, init: cfg.init }), new BatchNorm2d(outCh, bn)));
    else if (cfg.shortcut === 'avgpool') this.shortcut = this.registerModule('shortcut', new AvgPoolShortcut(outCh - inCh));
    else this.shortcut = this.registerModule('shortcut', new SubsampleShortcut(outCh - inCh));
  }
  forward(x: Tensor): Tensor {
    const h = convBn(this.conv1, this.bn1, x);
    h.relu_();
    const out = convBn(this.conv2, this.bn2, h);
    h.dispose();
    const sc = this.shortcut ? this.shortcut.forward(x) : x;
    out.add_(sc);
    if (sc !== x) sc.dispose();
    return out.relu_();
  }
}

export class ResNet extends Module {
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d; readonly layers: Sequential[]; readonly fc: Linear;
  constructor(readonly config: ResNetConfig, seed: number) {
    super();
    const cfg = config;
    if (!cfg.stages.length || cfg.stages.some((n) => !Number.isInteger(n) || n < 1))
      throw new LosstopoError({ code: 'invalid_config', path: 'model.stages' }, `expected positive integer block counts, received [${cfg.stages.join(', ')}]`);
    const gen = new Generator(seed);
    const w0 = Math.round(cfg.width * cfg.widthMult);
    this.conv1 = this.registerModule('conv1', new Conv2d(cfg.inChannels, w0, 3, gen, { padding: 1, bias: false, init: cfg.init }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(w0, { momentum: cfg.bnMomentum, eps: cfg.bnEps }));
    this.layers = [];
    let inCh = w0;
    cfg.stages.forEach((n, s) => {
      const outCh = w0 * 2 ** s;
      const blocks = Array.from({ length: n }, (_, b) => {
        const blk = new BasicBlock(b === 0 ? inCh : outCh, outCh, b === 0 && s > 0 ? 2 : 1, cfg, gen);
        return blk;
      });
      this.layers.push(this.registerModule(`layer${s + 1}`, new Sequential(...blocks)));
      inCh = outCh;
    });
    this.fc = this.registerModule('fc', new Linear(inCh, cfg.classes, gen, { init: cfg.init === 'msra' ? 'msra' : 'pytorch' }));
    if (cfg.memoryFormat !== 'contiguous') this.toMemoryFormat(cfg.memoryFormat);
  }
  get depth(): number { return depthOf(this.config.stages); }
  forward(x: Tensor): Tensor {
    const xin = this.config.memoryFormat === 'channels_last' && !x.isContiguous('channels_last') ? x.contiguous('channels_last') : x;
    let h = convBn(this.conv1, this.bn1, xin);
    if (xin !== x) xin.dispose();
    h.relu_();
    for (const layer of this.layers) { const next = layer.forward(h); h.dispose(); h = next; }
    const pooled = globalAvgPool(h); h.dispose();
    const out = this.fc.forward(pooled); pooled.dispose();
    return out;
  }
}
