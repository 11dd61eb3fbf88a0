/**
 * Functional ops: thin, argument-checking wrappers over one native kernel each. Shapes are checked
 * here where a wrong one would otherwise surface as a libtorch message naming internals.
 */
import { EngineError, native, type NativeGenerator } from './native.js';
import { Tensor, type DType } from './tensor.js';

const pair = (v: number | readonly [number, number]): number[] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

function argError(op: string, message: string): EngineError {
  return new EngineError('argument', op, message, `${op}: ${message}`);
}

function need(op: string, name: string, t: Tensor, rank: number): void {
  if (t.rank !== rank) throw argError(op, `${name} must have rank ${rank} (shape [${rank === 4 ? 'N, C, H, W' : '...'}]), received shape [${t.shape.join(', ')}]`);
}

// Creation.
export const zeros = (shape: readonly number[], dtype: DType = 'float32'): Tensor => new Tensor(native().zeros(shape, dtype));
export const ones = (shape: readonly number[], dtype: DType = 'float32'): Tensor => new Tensor(native().ones(shape, dtype));
export const full = (shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor => new Tensor(native().full(shape, value, dtype));
export const arange = (n: number, dtype: DType = 'int64'): Tensor => new Tensor(native().arange(n, dtype));
export const tensor = (data: number[] | Float32Array | Float64Array, shape?: readonly number[], dtype: 'float32' | 'float64' = 'float32'): Tensor => {
  const arr = dtype === 'float64' ? Float64Array.from(data) : Float32Array.from(data);
  return Tensor.fromData(arr, shape ?? [arr.length]);
};
/** int64 labels from any integer array. */
export const labels = (data: ArrayLike<number>): Tensor => {
  const out = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = BigInt(data[i]!);
  return Tensor.fromData(out, [data.length]);
};

/** A seeded random stream; its state can be saved and restored for exact resume. */
export class Generator {
  readonly handle: NativeGenerator;
  constructor(readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0) throw argError('Generator', `seed must be a non-negative integer, received ${seed}`);
    this.handle = native().generator(seed);
  }
  getState(): Uint8Array {
    const t = new Tensor(native().generatorGetState(this.handle));
    try { return t.data() as Uint8Array; } finally { t.dispose(); }
  }
  setState(state: Uint8Array): void {
    const t = Tensor.fromData(state, [state.length]);
    try { native().generatorSetState(this.handle, t.handle); } finally { t.dispose(); }
  }
}

export const randn = (shape: readonly number[], gen?: Generator, dtype: DType = 'float32'): Tensor =>
  new Tensor(native().randn(shape, dtype, gen?.handle ?? null));
export const rand = (shape: readonly number[], gen?: Generator, dtype: DType = 'float32'): Tensor =>
  new Tensor(native().rand(shape, dtype, gen?.handle ?? null));
export const randperm = (n: number, gen?: Generator): Tensor => new Tensor(native().randperm(n, gen?.handle ?? null));
/** Uniform on [low, high). */
export function uniform(shape: readonly number[], low: number, high: number, gen?: Generator, dtype: DType = 'float32'): Tensor {
  const u = rand(shape, gen, dtype);
  u.mul_(high - low).add_(low);
  return u;
}

export function manualSeed(seed: number): void { native().manualSeed(seed); }
export function setThreads(n: number): void { native().setNumThreads(n); }
export function getThreads(): number { return native().getNumThreads(); }
export function buildInfo(): ReturnType<ReturnType<typeof native>['buildInfo']> { return native().buildInfo(); }

export interface Conv2dOptions { stride?: number | [number, number]; padding?: number | [number, number]; dilation?: number | [number, number]; groups?: number }
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, o: Conv2dOptions = {}): Tensor {
  need('conv2d', 'x', x, 4);
  need('conv2d', 'weight', weight, 4);
  const groups = o.groups ?? 1;
  if (x.shape[1] !== weight.shape[1]! * groups)
    throw argError('conv2d', `x has ${x.shape[1]} channels but weight [${weight.shape.join(', ')}] expects ${weight.shape[1]! * groups}`);
  return new Tensor(native().conv2d(x.handle, weight.handle, bias?.handle ?? null, pair(o.stride ?? 1), pair(o.padding ?? 0), pair(o.dilation ?? 1), groups));
}

export interface BatchNormArgs {
  weight: Tensor | null; bias: Tensor | null; runningMean: Tensor | null; runningVar: Tensor | null;
  training: boolean; momentum: number; eps: number;
}
/** Batch norm over dim 1. In training it normalises by batch statistics and updates the running ones. */
export function batchNorm(x: Tensor, a: BatchNormArgs): Tensor {
  if (x.rank < 2) throw argError('batchNorm', `x must have a channel dimension, received shape [${x.shape.join(', ')}]`);
  if (!a.training && (!a.runningMean || !a.runningVar)) throw argError('batchNorm', 'evaluation mode needs running statistics');
  return new Tensor(native().batchNorm(x.handle, a.weight?.handle ?? null, a.bias?.handle ?? null, a.runningMean?.handle ?? null,
    a.runningVar?.handle ?? null, a.training, a.momentum, a.eps));
}

export interface PoolOptions { stride?: number | [number, number]; padding?: number | [number, number]; ceilMode?: boolean; countIncludePad?: boolean }
/** Average pooling; `ceilMode: true` gives Caffe's output size (windows clipped at the border). */
export function avgPool2d(x: Tensor, kernel: number | [number, number], o: PoolOptions = {}): Tensor {
  need('avgPool2d', 'x', x, 4);
  return new Tensor(native().avgPool2d(x.handle, pair(kernel), pair(o.stride ?? kernel), pair(o.padding ?? 0), o.ceilMode ?? false, o.countIncludePad ?? true));
}
export function maxPool2d(x: Tensor, kernel: number | [number, number], o: PoolOptions = {}): Tensor {
  need('maxPool2d', 'x', x, 4);
  return new Tensor(native().maxPool2d(x.handle, pair(kernel), pair(o.stride ?? kernel), pair(o.padding ?? 0), o.ceilMode ?? false));
}
/** Mean over H and W: [N, C, H, W] -> [N, C]. */
export function globalAvgPool(x: Tensor): Tensor {
  need('globalAvgPool', 'x', x, 4);
  return x.mean([2, 3]);
}

export const cat = (ts: Tensor[], dim = 0): Tensor => new Tensor(native().cat(ts.map((t) => t.handle), dim));
export const stack = (ts: Tensor[], dim = 0): Tensor => new Tensor(native().stack(ts.map((t) => t.handle), dim));
/** Constant padding; `pads` in PyTorch order, last dimension first (left, right, top, bottom, ...). */
export const pad = (x: Tensor, pads: number[], value = 0): Tensor => new Tensor(native().pad(x.handle, pads, value));
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  if (x.shape[x.rank - 1] !== weight.shape[1])
    throw argError('linear', `x has ${x.shape[x.rank - 1]} features but weight [${weight.shape.join(', ')}] expects ${weight.shape[1]}`);
  return new Tensor(native().linear(x.handle, weight.handle, bias?.handle ?? null));
}
export const logSoftmax = (x: Tensor, dim = -1): Tensor => new Tensor(native().logSoftmax(x.handle, dim));
export const softmax = (x: Tensor, dim = -1): Tensor => new Tensor(native().softmax(x.handle, dim));
export const where = (cond: Tensor, x: Tensor, y: Tensor): Tensor => new Tensor(native().where(cond.handle, x.handle, y.handle));

/** Mean (or sum) cross-entropy of logits [N, C] against int64 class indices [N]. */
export function crossEntropy(logits: Tensor, targets: Tensor, reduction: 'mean' | 'sum' | 'none' = 'mean', labelSmoothing = 0): Tensor {
  need('crossEntropy', 'logits', logits, 2);
  if (targets.rank !== 1 || targets.shape[0] !== logits.shape[0])
    throw argError('crossEntropy', `targets must have shape [${logits.shape[0]}], received [${targets.shape.join(', ')}]`);
  return new Tensor(native().crossEntropy(logits.handle, targets.handle, reduction, labelSmoothing));
}
export const nllLoss = (logp: Tensor, targets: Tensor, reduction: 'mean' | 'sum' | 'none' = 'mean'): Tensor =>
  new Tensor(native().nllLoss(logp.handle, targets.handle, reduction));

/** Number of rows whose argmax equals the target. */
export function countCorrect(logits: Tensor, targets: Tensor): number {
  const pred = logits.argmax(1);
  const eq = pred.eq(targets);
  const s = eq.sum();
  const n = s.item();
  pred.dispose(); eq.dispose(); s.dispose();
  return n;
}
