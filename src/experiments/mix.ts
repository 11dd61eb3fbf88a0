/**
 * Checkpoints as host arrays, and the weights (1 - alpha) * A + alpha * B loaded into a model:
 * what interpolation and the curvature probes along a line share. All float tensors are mixed,
 * BatchNorm running statistics included (the authors' Caffe interpolation); extrapolated running
 * variances that go negative are clamped at 0. Non-float tensors (num_batches_tracked) are A's.
 */
import { Tensor, type Module } from '../engine/index.js';
import { LosstopoError } from '../errors.js';
import { loadCheckpoint, type CheckpointMeta } from '../train/checkpoint.js';

export interface HostState { meta: CheckpointMeta; floats: Map<string, { data: Float64Array; shape: number[] }>; other: Map<string, Tensor> }

export function readState(file: string): HostState {
  const ck = loadCheckpoint(file);
  const floats = new Map<string, { data: Float64Array; shape: number[] }>();
  const other = new Map<string, Tensor>();
  for (const [k, t] of ck.state) {
    if (t.dtype === 'float32' || t.dtype === 'float64') { floats.set(k, { data: t.toFloat64(), shape: t.shape }); t.dispose(); }
    else other.set(k, t);
  }
  return { meta: ck.meta, floats, other };
}

export const disposeState = (s: HostState): void => { for (const t of s.other.values()) t.dispose(); };

/** Same model configuration and the same tensor names and shapes, or an error naming the file. */
export function checkCompatible(a: HostState, b: HostState, fa: string, fb: string): void {
  if (JSON.stringify(a.meta.model) !== JSON.stringify(b.meta.model))
    throw new LosstopoError({ code: 'invalid_file', file: fb }, `has a different model configuration than ${fa}: cannot interpolate`);
  for (const [k, t] of a.floats) {
    const u = b.floats.get(k);
    if (!u || u.shape.join(',') !== t.shape.join(',')) throw new LosstopoError({ code: 'invalid_file', file: fb, path: k }, `does not match ${fa}`);
  }
}

/** Loads (1 - alpha) * A + alpha * B (B null: A) into the model; alpha 0 and 1 give A and B exactly. */
export function loadMixed(model: Module, a: HostState, b: HostState | null, alpha: number): void {
  const state = new Map<string, Tensor>();
  try {
    for (const [k, ta] of a.floats) {
      const tb = b?.floats.get(k);
      if (b && (!tb || tb.shape.join(',') !== ta.shape.join(','))) throw new LosstopoError({ code: 'invalid_file', path: k }, 'the two checkpoints do not match: cannot interpolate');
      const out = new Float32Array(ta.data.length);
      if (!tb || alpha === 0) out.set(ta.data);
      else if (alpha === 1) out.set(tb.data);
      else for (let i = 0; i < out.length; i++) out[i] = (1 - alpha) * ta.data[i]! + alpha * tb.data[i]!;
      if (k.endsWith('running_var')) for (let i = 0; i < out.length; i++) if (out[i]! < 0) out[i] = 0;
      state.set(k, Tensor.fromData(out, ta.shape));
    }
    for (const [k, t] of a.other) state.set(k, t);
    model.loadStateDict(state);
  } finally {
    for (const [k, t] of state) if (!a.other.has(k)) t.dispose();
  }
}
