/**
 * Lifecycle hooks (after Keras callbacks): the trainer calls one object; HookList fans out. The
 * run-store writer, progress bar, checkpointing and experiment stop rules are all hooks.
 */
export interface StepLog {
  /** Iteration index (updates applied before this step). */
  iter: number;
  /** LR and momentum actually applied at this step. */
  lr: number;
  momentum: number;
  loss: number;
  /** Images in the batch. */
  n: number;
}

export interface EvalLog { iter: number; split: 'test' | 'train' | 'val'; loss: number; accuracy: number; count: number }

export interface RunEndLog { status: 'completed' | 'diverged' | 'interrupted' | 'failed'; iter: number; message?: string }

export interface Hooks {
  onRunStart?(info: { startIter: number; maxIter: number }): void;
  onStepEnd?(log: StepLog): void;
  onEvalEnd?(log: EvalLog): void;
  onRunEnd?(log: RunEndLog): void;
  /** Asked after every step: return a reason to stop the run early (not an error: status completed). */
  shouldStop?(log: StepLog): string | undefined;
}

export class HookList implements Hooks {
  constructor(private readonly hooks: Hooks[] = []) {}
  add(h: Hooks): this { this.hooks.push(h); return this; }
  onRunStart(info: { startIter: number; maxIter: number }): void { for (const h of this.hooks) h.onRunStart?.(info); }
  onStepEnd(log: StepLog): void { for (const h of this.hooks) h.onStepEnd?.(log); }
  onEvalEnd(log: EvalLog): void { for (const h of this.hooks) h.onEvalEnd?.(log); }
  onRunEnd(log: RunEndLog): void { for (const h of this.hooks) h.onRunEnd?.(log); }
  shouldStop(log: StepLog): string | undefined {
    for (const h of this.hooks) { const r = h.shouldStop?.(log); if (r) return r; }
    return undefined;
  }
}
