/**
 * Optimizers run in C++; this is their TypeScript face. The schedule sets lr and momentum before
 * every step (both really take effect: they are arguments of the native step). Parameter groups
 * carry Caffe's lr_mult and decay_mult.
 */
import { EngineError, native, type NativeOptimizer } from './native.js';
import { Tensor } from './tensor.js';

export type OptimizerKind = 'sgd' | 'nesterov' | 'adam' | 'adagrad' | 'adadelta';
export const optimizerKinds: readonly OptimizerKind[] = ['sgd', 'nesterov', 'adam', 'adagrad', 'adadelta'];
export type MomentumForm = 'caffe' | 'pytorch';

export interface ParamGroup {
  params: Tensor[];
  /** Multiplies the step's LR for this group (Caffe lr_mult). */
  lrMult?: number;
  /** Multiplies the step's weight decay for this group (Caffe decay_mult). */
  decayMult?: number;
}

export interface OptimizerConfig {
  /** SGD momentum update: Caffe's `v = m*v + lr*g; w -= v` or PyTorch's `v = m*v + g; w -= lr*v`. */
  momentumForm?: MomentumForm;
  beta2?: number;
  eps?: number;
  rho?: number;
}

export interface StepArgs {
  lr: number;
  /** SGD/Nesterov momentum; Adam's beta1. Ignored by AdaGrad and AdaDelta. */
  momentum: number;
  weightDecay: number;
  /** Global gradient-norm clip (Caffe clip_gradients); 0 disables. */
  clipGradients?: number;
}

export interface OptimizerState {
  steps: number;
  slotNames: string[];
  /** Per parameter (in construction order), one tensor per slot; empty before the first step. */
  slots: Tensor[][];
}

export class Optimizer {
  readonly handle: NativeOptimizer;
  readonly params: Tensor[];
  constructor(readonly kind: OptimizerKind, groups: ParamGroup[], readonly config: OptimizerConfig = {}) {
    if (!optimizerKinds.includes(kind)) throw new EngineError('argument', 'Optimizer', kind, `unknown optimizer ${JSON.stringify(kind)} (${optimizerKinds.join('|')})`);
    this.params = groups.flatMap((g) => g.params);
    const groupOf = groups.flatMap((g, i) => g.params.map(() => i));
    this.handle = native().optimizerCreate(kind === 'nesterov' ? 'sgd' : kind, this.params.map((p) => p.handle), groupOf,
      groups.map((g) => ({ lrMult: g.lrMult ?? 1, decayMult: g.decayMult ?? 1 })),
      { form: config.momentumForm ?? 'caffe', nesterov: kind === 'nesterov', beta2: config.beta2, eps: config.eps, rho: config.rho });
  }

  /** One update with the given hyperparameters; returns the gradient norm when clipping, else -1. */
  step(a: StepArgs): number {
    return native().optimizerStep(this.handle, a.lr, a.momentum, a.weightDecay, a.clipGradients ?? 0);
  }
  zeroGrad(): void { native().optimizerZeroGrad(this.handle); }

  /** The state as copies the caller owns (dispose them, or let a tidy do it). */
  state(): OptimizerState {
    const s = native().optimizerGetState(this.handle);
    return {
      steps: s.steps,
      slotNames: s.slotNames,
      slots: s.slots.map((list) => list.map((h) => { const alias = new Tensor(h!); const c = alias.clone(); alias.dispose(); return c; })),
    };
  }
  loadState(s: { steps: number; slots: Tensor[][] }): void {
    native().optimizerSetState(this.handle, s.steps, s.slots.map((l) => l.map((t) => t.handle)));
  }
}
