/** Autograd switches and gradients of outputs with respect to inputs (double backward included). */
import { native } from './native.js';
import { Tensor } from './tensor.js';

/** Runs `fn` with gradient recording off, restoring the previous mode even if `fn` throws. */
export function noGrad<R>(fn: () => R): R {
  const prev = native().setGradEnabled(false);
  try { return fn(); } finally { native().setGradEnabled(prev); }
}

export function enableGrad<R>(fn: () => R): R {
  const prev = native().setGradEnabled(true);
  try { return fn(); } finally { native().setGradEnabled(prev); }
}

export const isGradEnabled = (): boolean => native().isGradEnabled();

export interface GradOptions {
  gradOutputs?: Tensor[];
  retainGraph?: boolean;
  /** Build a graph of the gradient itself, for Hessian-vector products. */
  createGraph?: boolean;
  allowUnused?: boolean;
}

/** d(outputs)/d(inputs); entries are null for unused inputs when allowUnused. */
export function grad(outputs: Tensor[], inputs: Tensor[], o: GradOptions = {}): (Tensor | null)[] {
  const gs = native().autogradGrad(outputs.map((t) => t.handle), inputs.map((t) => t.handle), o.gradOutputs?.map((t) => t.handle) ?? null,
    o.retainGraph ?? o.createGraph ?? false, o.createGraph ?? false, o.allowUnused ?? false);
  return gs.map((g) => (g ? new Tensor(g) : null));
}
