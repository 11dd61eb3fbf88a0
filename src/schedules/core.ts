/**
 * The schedule vocabulary: a schedule is a pure function of the iteration count that returns the
 * learning rate and the momentum to apply at that iteration (`momentum` is null where the policy
 * leaves momentum to the optimizer). Factories check their config once and return a stateless
 * closure, so any iteration can be evaluated in any order (after optax's `schedules`).
 *
 * Composition primitives use one set of field names everywhere: `initLr`, `peakLr`, `endLr`,
 * `steps`; the policy factories (caffe.ts, pytorch.ts, fastai.ts) keep their anchor's own names.
 */
import { LosstopoError, expected } from '../errors.js';

export interface SchedulePoint {
  lr: number;
  /** Momentum to apply, or null where the schedule does not set it. */
  momentum: number | null;
}
export type Schedule = (iter: number) => SchedulePoint;

/** Maps a config key (`maxLr`) to the name the user wrote (`--max-lr`, `max_lr`) for messages. */
export type Naming = (key: string) => string;
export const keyNaming: Naming = (key) => key;

// ---------------------------------------------------------------------------------------------
// Checks shared by every factory: they throw one LosstopoError naming the option and the value.

/** Reads and checks config fields, naming them as the user wrote them. */
export class Checker {
  /** `owner` names what requires the fields in messages about missing ones (`policy one_cycle`). */
  constructor(readonly naming: Naming = keyNaming, readonly context = '', readonly owner = '') {}
  private fail(key: string, what: string, got: unknown): never {
    throw expected(this.naming(key), what + this.context, got, 'invalid_config');
  }
  private present(o: Record<string, unknown>, key: string, what: string): unknown {
    const v = o[key];
    if (v === undefined || v === null) {
      const path = this.naming(key);
      throw new LosstopoError({ code: 'invalid_config', path, expected: what, received: 'nothing' },
        `is required${this.owner ? ` by ${this.owner}` : ''}: expected ${what}${this.context}, received nothing`);
    }
    return v;
  }
  number(o: Record<string, unknown>, key: string, what = 'a finite number', def?: number): number {
    const v = o[key] === undefined && def !== undefined ? def : this.present(o, key, what);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, what, v);
    return v;
  }
  /** A finite number >= 0 (learning rates, eta_min). */
  nonNegative(o: Record<string, unknown>, key: string, def?: number): number {
    const v = this.number(o, key, 'a number >= 0', def);
    if (v < 0) this.fail(key, 'a number >= 0', v);
    return v;
  }
  positive(o: Record<string, unknown>, key: string, def?: number): number {
    const v = this.number(o, key, 'a number > 0', def);
    if (!(v > 0)) this.fail(key, 'a number > 0', v);
    return v;
  }
  positiveInt(o: Record<string, unknown>, key: string, def?: number): number {
    const v = this.number(o, key, 'a positive integer', def);
    if (!Number.isInteger(v) || v < 1) this.fail(key, 'a positive integer', v);
    return v;
  }
  int(o: Record<string, unknown>, key: string, min: number, def?: number): number {
    const what = `an integer >= ${min}`;
    const v = this.number(o, key, what, def);
    if (!Number.isInteger(v) || v < min) this.fail(key, what, v);
    return v;
  }
  /** A momentum in [0, 1]. */
  momentum(o: Record<string, unknown>, key: string, def?: number): number {
    const v = this.number(o, key, 'a momentum in [0, 1]', def);
    if (v < 0 || v > 1) this.fail(key, 'a momentum in [0, 1]', v);
    return v;
  }
  /** Optional constant momentum: absent -> null. */
  optionalMomentum(o: Record<string, unknown>, key: string): number | null {
    return o[key] === undefined || o[key] === null ? null : this.momentum(o, key);
  }
  /** A number strictly inside (lo, hi). */
  openInterval(o: Record<string, unknown>, key: string, lo: number, hi: number, def?: number): number {
    const what = `a number strictly between ${lo} and ${hi}`;
    const v = this.number(o, key, what, def);
    if (!(v > lo && v < hi)) this.fail(key, what, v);
    return v;
  }
  boolean(o: Record<string, unknown>, key: string, def: boolean): boolean {
    const v = o[key] === undefined ? def : o[key];
    if (typeof v !== 'boolean') this.fail(key, 'true or false', v);
    return v;
  }
  choice<C extends string>(o: Record<string, unknown>, key: string, choices: readonly C[], def?: C): C {
    const what = `one of ${choices.join('|')}`;
    const v = o[key] === undefined && def !== undefined ? def : this.present(o, key, what);
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) this.fail(key, what, v);
    return v as C;
  }
  numbers(o: Record<string, unknown>, key: string, what: string, each: (x: number) => boolean, def?: readonly number[]): number[] {
    const v = o[key] === undefined && def !== undefined ? [...def] : this.present(o, key, what);
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && each(x))) {
      this.fail(key, what, Array.isArray(v) ? v.join(',') : v);
    }
    return [...(v as number[])];
  }
  /** `hi` must not be below `lo` (both already read). */
  notBelow(hiKey: string, hi: number, loKey: string, lo: number): void {
    if (hi < lo) this.fail(hiKey, `a value >= ${this.naming(loKey)} (${lo})`, hi);
  }
  /** A free-form contradiction between options, reported on `key`. */
  contradiction(key: string, what: string, got: unknown): never {
    this.fail(key, what, got);
  }
}

// ---------------------------------------------------------------------------------------------
// Primitives

export function constant(lr: number, momentum: number | null = null): Schedule {
  if (!Number.isFinite(lr) || lr < 0) throw expected('lr', 'a number >= 0', lr, 'invalid_config');
  const point = Object.freeze({ lr, momentum });
  return () => ({ ...point });
}

export interface SegmentConfig {
  initLr: number;
  endLr: number;
  /** Length of the transition in iterations (> 0; may be fractional). */
  steps: number;
  /** Momentum at the start and end of the segment; omitted -> null. */
  initMomentum?: number;
  endMomentum?: number;
}

function checkSegment(c: SegmentConfig, kind: string): void {
  const ck = new Checker(keyNaming, ` (${kind} segment)`);
  const o = c as unknown as Record<string, unknown>;
  ck.nonNegative(o, 'initLr');
  ck.nonNegative(o, 'endLr');
  ck.positive(o, 'steps');
  if ((c.initMomentum === undefined) !== (c.endMomentum === undefined)) {
    ck.contradiction(c.initMomentum === undefined ? 'initMomentum' : 'endMomentum', 'both initMomentum and endMomentum, or neither', 'only one');
  }
  if (c.initMomentum !== undefined) { ck.momentum(o, 'initMomentum'); ck.momentum(o, 'endMomentum'); }
}

/** Linear from `initLr` to `endLr` over `steps`, then held at `endLr`. */
export function linear(c: SegmentConfig): Schedule {
  checkSegment(c, 'linear');
  const { initLr, endLr, steps } = c;
  const m0 = c.initMomentum ?? null, m1 = c.endMomentum ?? null;
  return (iter) => {
    const t = Math.min(Math.max(iter / steps, 0), 1);
    return { lr: initLr + (endLr - initLr) * t, momentum: m0 === null || m1 === null ? null : m0 + (m1 - m0) * t };
  };
}

/** fastai's `SchedCos`: start + (1 + cos(pi * (1 - t))) * (end - start) / 2, t = iter/steps in [0, 1]. */
export function cosineInterp(start: number, end: number, t: number): number {
  return start + (1 + Math.cos(Math.PI * (1 - t))) * (end - start) / 2;
}

/** Half-cosine from `initLr` to `endLr` over `steps`, then held at `endLr`. */
export function cosine(c: SegmentConfig): Schedule {
  checkSegment(c, 'cosine');
  const { initLr, endLr, steps } = c;
  const m0 = c.initMomentum ?? null, m1 = c.endMomentum ?? null;
  return (iter) => {
    const t = Math.min(Math.max(iter / steps, 0), 1);
    return { lr: cosineInterp(initLr, endLr, t), momentum: m0 === null || m1 === null ? null : cosineInterp(m0, m1, t) };
  };
}

/**
 * Joins schedules at `boundaries` (strictly increasing, one fewer than the segments): segment i
 * applies from boundaries[i-1] (inclusive) to boundaries[i] (exclusive) and sees the iteration
 * relative to its own start, as optax's `join_schedules`.
 */
export function join(segments: readonly Schedule[], boundaries: readonly number[]): Schedule {
  if (segments.length === 0) throw expected('segments', 'at least one schedule', 'none', 'invalid_config');
  if (boundaries.length !== segments.length - 1) {
    throw expected('boundaries', `${segments.length - 1} boundaries for ${segments.length} segments`, boundaries.length, 'invalid_config');
  }
  boundaries.forEach((b, i) => {
    if (!Number.isFinite(b) || b < 0 || (i > 0 && b <= boundaries[i - 1]!)) {
      throw expected(`boundaries[${i}]`, 'finite, >= 0 and strictly increasing boundaries', b, 'invalid_config');
    }
  });
  const segs = [...segments], bounds = [...boundaries];
  return (iter) => {
    let i = 0;
    while (i < bounds.length && iter >= bounds[i]!) i++;
    return segs[i]!(i === 0 ? iter : iter - bounds[i - 1]!);
  };
}

/** Runs each part for its `steps` in turn (the last part runs on); a convenience over `join`. */
export function sequence(parts: readonly { schedule: Schedule; steps: number }[]): Schedule {
  const boundaries: number[] = [];
  let at = 0;
  parts.slice(0, -1).forEach((p, i) => {
    if (!Number.isFinite(p.steps) || p.steps <= 0) throw expected(`parts[${i}].steps`, 'a number > 0', p.steps, 'invalid_config');
    at += p.steps;
    boundaries.push(at);
  });
  return join(parts.map((p) => p.schedule), boundaries);
}

/**
 * Linear warm-up: for the first `steps` iterations the LR goes linearly from `initLr` to the
 * wrapped schedule's value at its iteration 0 (momentum: the schedule's momentum at 0); after that
 * the schedule runs on the iteration relative to the end of the warm-up.
 */
export function withWarmup(schedule: Schedule, warm: { steps: number; initLr?: number }): Schedule {
  const ck = new Checker(keyNaming, ' (warm-up)');
  const o = warm as unknown as Record<string, unknown>;
  const steps = ck.int(o, 'steps', 0);
  const initLr = ck.nonNegative(o, 'initLr', 0);
  if (steps === 0) return schedule;
  const first = schedule(0);
  return join([
    (iter) => ({ lr: initLr + (first.lr - initLr) * (iter / steps), momentum: first.momentum }),
    schedule,
  ], [steps]);
}

/** Replaces the momentum of every point with a constant (or null). */
export function withMomentum(schedule: Schedule, momentum: number | null): Schedule {
  if (momentum !== null && !(momentum >= 0 && momentum <= 1)) throw expected('momentum', 'a momentum in [0, 1]', momentum, 'invalid_config');
  return (iter) => ({ lr: schedule(iter).lr, momentum });
}

/** Thrown by schedules that are undefined past their last step (as PyTorch's OneCycleLR). */
export function pastEnd(iter: number, last: number, naming: string): LosstopoError {
  return expected('iter', `an iteration <= ${naming} (${last})`, iter, 'invalid_config');
}
