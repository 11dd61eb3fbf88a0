/** Test helpers: finite-difference gradient checks and a memory-leak guard. */
import assert from 'node:assert/strict';
import { Tensor, memory, tidy, noGrad, grad as autograd } from '../../src/engine/index.js';

/** Deterministic pseudo-random float64 values (independent of the engine's generator). */
export function seeded(n: number, seed = 1, scale = 1): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

export function f64(shape: number[], seed = 1, scale = 1): Tensor {
  return Tensor.fromData(seeded(shape.reduce((a, b) => a * b, 1), seed, scale), shape);
}

/**
 * Checks autograd against central finite differences in float64 for a scalar function of several
 * inputs. `fn` must build its output from the given tensors only.
 */
export function checkGradients(name: string, inputs: Tensor[], fn: (xs: Tensor[]) => Tensor, o: { eps?: number; tol?: number } = {}): void {
  const eps = o.eps ?? 1e-6, tol = o.tol ?? 1e-6;
  tidy(() => {
    for (const x of inputs) x.setRequiresGrad(true);
    const out = fn(inputs);
    const analytic = autograd([out], inputs).map((g) => g!.toFloat64());
    noGrad(() => {
      inputs.forEach((x, k) => {
        const base = x.toFloat64();
        const numeric = new Float64Array(base.length);
        const at = (i: number, v: number): number => tidy(() => {
          const p = base.slice(); p[i] = v;
          x.copy_(Tensor.fromData(p, x.shape));
          return fn(inputs).item();
        });
        for (let i = 0; i < base.length; i++) numeric[i] = (at(i, base[i]! + eps) - at(i, base[i]! - eps)) / (2 * eps);
        x.copy_(Tensor.fromData(base, x.shape));
        const a = analytic[k]!;
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - numeric[i]!) / Math.max(1, Math.abs(numeric[i]!)));
        assert.ok(worst < tol, `${name}: input ${k} gradient differs from finite differences by ${worst.toExponential(2)} (tol ${tol})`);
      });
    });
  });
}

/** Runs fn and asserts it left no native tensor behind. */
export function noLeak<R>(fn: () => R): R {
  const before = memory().numTensors;
  const r = fn();
  assert.equal(memory().numTensors, before, 'native tensors leaked');
  return r;
}

export function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what = 'values'): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    assert.ok(d <= tol * Math.max(1, Math.abs(b[i]!)), `${what}[${i}]: ${a[i]} vs ${b[i]} (tol ${tol})`);
  }
}
