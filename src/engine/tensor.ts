/**
 * Tensor: a JS handle over a native libtorch tensor.
 *
 * Memory is deterministic when you want it: `tidy(fn)` disposes every tensor created inside `fn`
 * except those it returns or `keep()`s; `t.dispose()` frees one at once. Tensors made outside any
 * scope are freed by the GC, which sees their native size (reported as external memory).
 * Ownership: a function that returns a Tensor hands it to the caller; one that takes a Tensor
 * only borrows it.
 */
import { native, type MemoryFormat, type NativeDType, type NativeTensor, type TypedArray } from './native.js';

export type DType = NativeDType;
export type { MemoryFormat, TypedArray };

const scopes: Set<Tensor>[] = [];

function track(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

export class Tensor {
  private _shape: number[] | undefined;
  /** @internal */
  constructor(readonly handle: NativeTensor) {
    track(this);
  }

  static fromData(data: TypedArray, shape: readonly number[]): Tensor {
    return new Tensor(native().fromData(data, shape));
  }

  get shape(): number[] {
    return (this._shape ??= native().shape(this.handle));
  }
  get rank(): number { return this.shape.length; }
  get size(): number { return this.shape.reduce((a, b) => a * b, 1); }
  get dtype(): DType { return native().dtype(this.handle); }
  get isDisposed(): boolean { return native().isDisposed(this.handle); }

  dispose(): void {
    native().dispose(this.handle);
    for (const s of scopes) s.delete(this);
  }

  /** A copy of the values in row-major order. */
  data(): TypedArray { return native().toData(this.handle); }
  /** float32/float64 values as a plain Float64Array (for JS-side maths). */
  toFloat64(): Float64Array {
    const d = this.data();
    return d instanceof Float64Array ? d : Float64Array.from(d as ArrayLike<number>);
  }
  item(): number { return native().item(this.handle); }

  // Autograd.
  get requiresGrad(): boolean { return native().requiresGrad(this.handle); }
  setRequiresGrad(on = true): this { native().setRequiresGrad(this.handle, on); return this; }
  /** The accumulated gradient, or null; a new handle sharing the gradient's storage. */
  get grad(): Tensor | null { const g = native().grad(this.handle); return g ? new Tensor(g) : null; }
  set grad(g: Tensor | null) { native().setGrad(this.handle, g ? g.handle : null); }
  backward(opts: { gradient?: Tensor; retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native().backward(this.handle, opts.gradient?.handle ?? null, opts.retainGraph ?? opts.createGraph ?? false, opts.createGraph ?? false);
  }
  detach(): Tensor { return new Tensor(native().detach(this.handle)); }

  // Layout and type.
  clone(format: MemoryFormat = 'preserve'): Tensor { return new Tensor(native().clone(this.handle, format)); }
  contiguous(format: MemoryFormat = 'contiguous'): Tensor { return new Tensor(native().contiguous(this.handle, format)); }
  isContiguous(format: MemoryFormat = 'contiguous'): boolean { return native().isContiguous(this.handle, format); }
  to(dtype: DType): Tensor { return new Tensor(native().toDtype(this.handle, dtype)); }
  reshape(shape: number[]): Tensor { return new Tensor(native().reshape(this.handle, shape)); }
  flatten(startDim = 0, endDim = -1): Tensor { return new Tensor(native().flatten(this.handle, startDim, endDim)); }
  permute(dims: number[]): Tensor { return new Tensor(native().permute(this.handle, dims)); }
  transpose(d0: number, d1: number): Tensor { return new Tensor(native().transpose(this.handle, d0, d1)); }
  narrow(dim: number, start: number, length: number): Tensor { return new Tensor(native().narrow(this.handle, dim, start, length)); }
  unsqueeze(dim: number): Tensor { return new Tensor(native().unsqueeze(this.handle, dim)); }
  indexSelect(dim: number, index: Tensor): Tensor { return new Tensor(native().indexSelect(this.handle, dim, index.handle)); }

  // Elementwise maths. `b` may be a tensor (broadcast) or a number.
  add(b: Tensor | number, alpha = 1): Tensor { return bin('add', this, b, alpha); }
  sub(b: Tensor | number, alpha = 1): Tensor { return bin('sub', this, b, alpha); }
  mul(b: Tensor | number): Tensor { return bin('mul', this, b); }
  div(b: Tensor | number): Tensor { return bin('div', this, b); }
  pow(b: Tensor | number): Tensor { return bin('pow', this, b); }
  maximum(b: Tensor | number): Tensor { return bin('maximum', this, b); }
  minimum(b: Tensor | number): Tensor { return bin('minimum', this, b); }
  eq(b: Tensor | number): Tensor { return bin('eq', this, b); }
  gt(b: Tensor | number): Tensor { return bin('gt', this, b); }
  lt(b: Tensor | number): Tensor { return bin('lt', this, b); }
  /** In place: this += alpha*b. Returns this. */
  add_(b: Tensor | number, alpha = 1): this { binInPlace('add', this, b, alpha); return this; }
  sub_(b: Tensor | number, alpha = 1): this { binInPlace('sub', this, b, alpha); return this; }
  mul_(b: Tensor | number): this { binInPlace('mul', this, b); return this; }
  div_(b: Tensor | number): this { binInPlace('div', this, b); return this; }
  copy_(src: Tensor): this { binInPlace('copy', this, src); return this; }
  fill_(v: number): this { binInPlace('fill', this, v); return this; }
  zero_(): this { native().unary('zero', this.handle, true); return this; }
  relu_(): this { native().unary('relu', this.handle, true); return this; }

  relu(): Tensor { return un('relu', this); }
  neg(): Tensor { return un('neg', this); }
  exp(): Tensor { return un('exp', this); }
  log(): Tensor { return un('log', this); }
  sqrt(): Tensor { return un('sqrt', this); }
  abs(): Tensor { return un('abs', this); }
  sign(): Tensor { return un('sign', this); }
  sigmoid(): Tensor { return un('sigmoid', this); }
  tanh(): Tensor { return un('tanh', this); }
  square(): Tensor { return un('square', this); }
  isFinite(): Tensor { return un('isfinite', this); }
  clamp(min: number | null, max: number | null = null): Tensor { return new Tensor(native().clamp(this.handle, min, max)); }

  // Reductions. `dims` omitted reduces over everything.
  sum(dims?: number[], keepdim = false): Tensor { return new Tensor(native().reduce('sum', this.handle, dims ?? null, keepdim)); }
  mean(dims?: number[], keepdim = false): Tensor { return new Tensor(native().reduce('mean', this.handle, dims ?? null, keepdim)); }
  max(dims: number[], keepdim = false): Tensor { return new Tensor(native().reduce('amax', this.handle, dims, keepdim)); }
  min(dims: number[], keepdim = false): Tensor { return new Tensor(native().reduce('amin', this.handle, dims, keepdim)); }
  norm(p = 2, dims?: number[], keepdim = false): Tensor { return new Tensor(native().norm(this.handle, p, dims ?? null, keepdim)); }
  dot(b: Tensor): Tensor { return new Tensor(native().dot(this.handle, b.handle)); }
  matmul(b: Tensor): Tensor { return new Tensor(native().matmul(this.handle, b.handle)); }
  argmax(dim: number, keepdim = false): Tensor { return new Tensor(native().argmax(this.handle, dim, keepdim)); }

  toString(): string { return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`; }
}

type BinName = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'gt' | 'lt';
function bin(name: BinName, a: Tensor, b: Tensor | number, alpha = 1): Tensor {
  return new Tensor(native().binary(name, a.handle, typeof b === 'number' ? b : b.handle, alpha, false));
}
function binInPlace(name: 'add' | 'sub' | 'mul' | 'div' | 'copy' | 'fill', a: Tensor, b: Tensor | number, alpha = 1): void {
  native().binary(name, a.handle, typeof b === 'number' ? b : b.handle, alpha, true);
}
function un(name: string, x: Tensor): Tensor {
  return new Tensor(native().unary(name, x.handle));
}

/** Every Tensor inside a value (arrays, plain objects, Maps), for tidy's return handling. */
function collect(value: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value instanceof Tensor) { out.add(value); return; }
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) for (const v of value) collect(v, out, seen);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, seen);
}

/**
 * Runs `fn` in a scope: tensors created inside are disposed on exit (also on throw), except those
 * in the returned value and those passed to `keep()`. Returned tensors move to the parent scope.
 * Synchronous only: a Promise return is an error, since the scope would close before it settles.
 */
export function tidy<R>(fn: () => R): R {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: R;
  let ok = false;
  try {
    result = fn();
    ok = true;
  } finally {
    scopes.pop();
    const survivors = new Set<Tensor>();
    if (ok) collect(result!, survivors);
    for (const t of scope) if (!survivors.has(t)) native().dispose(t.handle);
    for (const t of survivors) if (scope.has(t)) track(t);
  }
  if (result! instanceof Promise) throw new TypeError('tidy(fn): fn returned a Promise; tidy scopes are synchronous (await outside the tidy)');
  return result!;
}

/** Exempts a tensor from every enclosing tidy scope; the caller now owns it. */
export function keep<X extends Tensor>(t: X): X {
  for (const s of scopes) s.delete(t);
  return t;
}

/** Live native tensors and their bytes; tests assert this does not grow. */
export function memory(): { numTensors: number; numBytes: number } {
  return native().memoryStats();
}

export function disposeAll(ts: Iterable<Tensor | null | undefined>): void {
  for (const t of ts) t?.dispose();
}
