/**
 * Typed records of a run folder (DESIGN.md "Contracts"): run.json, metrics.jsonl,
 * range-test.json, interpolation.jsonl and all-pairs.json. Values JSON cannot hold (NaN, ±inf,
 * written as null by a diverged run) are NaN here.
 */

export type RunStatus = 'running' | 'completed' | 'diverged' | 'failed' | 'interrupted';
export const runStatuses: readonly RunStatus[] = ['running', 'completed', 'diverged', 'failed', 'interrupted'];

/** run.json. `status` and `kind` are kept as written even when they are values this reader does not know. */
export interface RunInfo {
  name?: string;
  kind: string;
  status: RunStatus | string;
  config: Record<string, unknown>;
  versions: Record<string, unknown>;
  createdAt?: string;
  updatedAt?: string;
  summary?: Record<string, unknown>;
  /** Why the run ended as it did (diverged, failed, interrupted), when the writer says. */
  message?: string;
  /** Iteration reached, as the writer last recorded it. */
  iter?: number;
}

/** One training iteration: `{"iter","lr","momentum","trainLoss"}`. */
export interface TrainRecord {
  iter: number;
  lr: number;
  momentum: number | null;
  trainLoss: number;
}

export type EvalSplit = 'test' | 'train' | 'val';

/** One evaluation: `{"iter","split","loss","accuracy"}` (accuracy as a fraction, 0..1). */
export interface EvalRecord {
  iter: number;
  split: EvalSplit;
  loss: number;
  accuracy: number;
}

export type MetricRecord = TrainRecord | EvalRecord;

export const isEval = (r: MetricRecord): r is EvalRecord => 'split' in r;

/** range-test.json. */
export interface RangeTestPoint {
  lr: number;
  iter: number;
  trainLoss: number;
  smoothedLoss: number;
  testLoss?: number;
  testAccuracy?: number;
}
export interface RangeTestRecord {
  points: RangeTestPoint[];
  suggestions: Record<string, unknown>;
}

/** One line of interpolation.jsonl: net = (1 - alpha) * from + alpha * to. */
export interface InterpolationRecord {
  alpha: number;
  split: 'train' | 'test';
  loss: number;
  accuracy: number;
}

/** all-pairs.json: barrier[i][j] is the loss barrier between solutions i and j. */
export interface AllPairsRecord {
  labels: string[];
  barrier: number[][];
}

/** Everything a run folder holds that reports and the dashboard read. */
export interface RunRecord {
  /** The folder, as given (not resolved). */
  dir: string;
  info: RunInfo;
  train: TrainRecord[];
  evals: EvalRecord[];
  rangeTest?: RangeTestRecord;
  interpolation?: InterpolationRecord[];
  allPairs?: AllPairsRecord;
  /** Files whose last line was incomplete (being written) and was left out. */
  partial: string[];
}
