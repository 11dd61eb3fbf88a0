/**
 * Loads the libtorch addon and types its flat surface. Every native function is wrapped once so a
 * C++ failure arrives as an `EngineError{kind, op, detail}`, never as a raw native error.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LosstopoError } from '../errors.js';

/** Opaque handle to a native tensor. */
export interface NativeTensor { readonly __nativeTensor: unique symbol }
export interface NativeGenerator { readonly __nativeGenerator: unique symbol }
export interface NativeOptimizer { readonly __nativeOptimizer: unique symbol }
export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
export type NativeDType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';
export type MemoryFormat = 'contiguous' | 'channels_last' | 'preserve';
type T = NativeTensor;
type N = T | null;

export interface NativeApi {
  fromData(data: TypedArray, shape: readonly number[]): T;
  toData(t: T): TypedArray;
  shape(t: T): number[];
  dtype(t: T): NativeDType;
  item(t: T): number;
  dispose(t: T): void;
  isDisposed(t: T): boolean;
  memoryStats(): { numTensors: number; numBytes: number };
  isContiguous(t: T, format: MemoryFormat): boolean;
  contiguous(t: T, format: MemoryFormat): T;
  clone(t: T, format: MemoryFormat): T;
  detach(t: T): T;
  toDtype(t: T, dtype: NativeDType): T;
  zeros(shape: readonly number[], dtype: NativeDType): T;
  ones(shape: readonly number[], dtype: NativeDType): T;
  full(shape: readonly number[], value: number, dtype: NativeDType): T;
  arange(n: number, dtype: NativeDType): T;
  generator(seed: number): NativeGenerator;
  generatorGetState(g: NativeGenerator): T;
  generatorSetState(g: NativeGenerator, state: T): void;
  randn(shape: readonly number[], dtype: NativeDType, gen: NativeGenerator | null): T;
  rand(shape: readonly number[], dtype: NativeDType, gen: NativeGenerator | null): T;
  randperm(n: number, gen: NativeGenerator | null): T;
  manualSeed(seed: number): void;
  setRequiresGrad(t: T, on: boolean): void;
  requiresGrad(t: T): boolean;
  grad(t: T): N;
  setGrad(t: T, g: N): void;
  backward(t: T, gradient: N, retainGraph: boolean, createGraph: boolean): void;
  autogradGrad(outputs: T[], inputs: T[], gradOutputs: T[] | null, retainGraph: boolean, createGraph: boolean, allowUnused: boolean): N[];
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  buildInfo(): { torchVersion: string; parallel: string; mkldnn: boolean; cuda: boolean };
  unary(name: string, x: T, inplace?: boolean): T;
  binary(name: string, a: T, b: T | number, alpha: number, inplace: boolean): T;
  conv2d(x: T, w: T, b: N, stride: number[], padding: number[], dilation: number[], groups: number): T;
  batchNorm(x: T, w: N, b: N, rm: N, rv: N, training: boolean, momentum: number, eps: number): T;
  avgPool2d(x: T, kernel: number[], stride: number[], padding: number[], ceilMode: boolean, countIncludePad: boolean): T;
  maxPool2d(x: T, kernel: number[], stride: number[], padding: number[], ceilMode: boolean): T;
  reduce(name: 'sum' | 'mean' | 'amax' | 'amin', x: T, dims: number[] | null, keepdim: boolean): T;
  norm(x: T, p: number, dims: number[] | null, keepdim: boolean): T;
  dot(a: T, b: T): T;
  matmul(a: T, b: T): T;
  cat(ts: T[], dim: number): T;
  stack(ts: T[], dim: number): T;
  pad(x: T, pads: number[], value: number): T;
  linear(x: T, w: T, b: N): T;
  logSoftmax(x: T, dim: number): T;
  softmax(x: T, dim: number): T;
  crossEntropy(logits: T, targets: T, reduction: 'mean' | 'sum' | 'none', labelSmoothing: number): T;
  nllLoss(logp: T, targets: T, reduction: 'mean' | 'sum' | 'none'): T;
  argmax(x: T, dim: number, keepdim: boolean): T;
  reshape(x: T, shape: number[]): T;
  permute(x: T, dims: number[]): T;
  transpose(x: T, d0: number, d1: number): T;
  narrow(x: T, dim: number, start: number, length: number): T;
  indexSelect(x: T, dim: number, index: T): T;
  flatten(x: T, startDim: number, endDim: number): T;
  unsqueeze(x: T, dim: number): T;
  clamp(x: T, min: number | null, max: number | null): T;
  where(cond: T, x: T, y: T): T;
  optimizerCreate(kind: string, params: T[], groupOf: number[], groups: { lrMult: number; decayMult: number }[],
    options: { form?: string; nesterov?: boolean; beta2?: number; eps?: number; rho?: number; initialAccumulator?: number }): NativeOptimizer;
  optimizerStep(opt: NativeOptimizer, lr: number, momentum: number, weightDecay: number, clipGradients: number): number;
  optimizerZeroGrad(opt: NativeOptimizer): void;
  optimizerGetState(opt: NativeOptimizer): { steps: number; slotNames: string[]; slots: N[][] };
  optimizerSetState(opt: NativeOptimizer, steps: number, slots: T[][]): void;
}

/** A failure inside the engine: `op` is the native function, `kind` says what sort of problem. */
export class EngineError extends Error {
  constructor(readonly kind: string, readonly op: string, readonly detail: string, message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

export const addonPath = fileURLToPath(new URL('../../native/build/Release/losstopo_native.node', import.meta.url));

let api: NativeApi | undefined;

export function native(): NativeApi {
  if (api) return api;
  if (!existsSync(addonPath)) {
    throw new LosstopoError({ code: 'engine_error', file: addonPath },
      'the native engine is not built: run `npm run setup` (installs libtorch-dev when missing and builds the addon)');
  }
  const raw = createRequire(import.meta.url)(addonPath) as Record<string, (...a: unknown[]) => unknown>;
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(raw)) {
    wrapped[name] = (...args: unknown[]) => {
      try {
        return fn(...args);
      } catch (e) {
        const err = e as Error & { kind?: string; op?: string; detail?: string };
        throw new EngineError(err.kind ?? 'native', err.op ?? name, err.detail ?? err.message, err.message);
      }
    };
  }
  api = wrapped as unknown as NativeApi;
  return api;
}
