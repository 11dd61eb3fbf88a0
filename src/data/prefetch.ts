/**
 * A training loader that assembles batches ahead on a worker thread. The batch sequence is a pure
 * function of the loader state (`fillBatch(spec, state)`), so the worker simply walks the states
 * ahead of the trainer into a ring of shared slots; the trainer's `next()` takes the next full
 * slot (waiting only if the worker is behind) and returns the slot to the worker on the following
 * call. `state` is the trainer's position, not the worker's, so checkpoints resume exactly.
 */
import { Worker } from 'node:worker_threads';
import { batchesPerEpoch, nextState, type Batch, type BatchSpec, type LoaderState } from './loader.js';

const EMPTY = 0, FULL = 1;

const workerCode = `
const { workerData } = require('node:worker_threads');
const { tsx, url, spec, depth, xs, ys, ctrl, start } = workerData;
const flags = new Int32Array(ctrl);
import(tsx).then((t) => { t.register(); return import(url); }).then((m) => {
  let state = start;
  for (let k = 0; ; k++) {
    const slot = k % depth;
    while (Atomics.load(flags, slot) !== ${EMPTY}) {
      if (Atomics.load(flags, depth) === 1) return;
      Atomics.wait(flags, slot, ${FULL}, 200);
    }
    if (Atomics.load(flags, depth) === 1) return;
    const x = new Float32Array(xs[slot]);
    const y = spec.labelType === 'int64' ? new BigInt64Array(ys[slot]) : new Int32Array(ys[slot]);
    m.fillBatch(spec, state, x, y);
    Atomics.store(flags, slot, ${FULL});
    Atomics.notify(flags, slot);
    state = m.nextState(spec, state);
  }
});`;

export class PrefetchLoader {
  private readonly worker: Worker;
  private readonly flags: Int32Array;
  private readonly xs: SharedArrayBuffer[];
  private readonly ys: SharedArrayBuffer[];
  private current: LoaderState;
  private consumed = 0;
  private held = -1;
  private failure: Error | undefined;

  constructor(readonly spec: BatchSpec, state: LoaderState = { epoch: 0, position: 0 }, readonly depth = 3) {
    this.current = { ...state };
    const t = spec.transform;
    const xBytes = spec.batchSize * t.channels * t.height * t.width * 4;
    const yBytes = spec.batchSize * (spec.labelType === 'int64' ? 8 : 4);
    this.xs = Array.from({ length: depth }, () => new SharedArrayBuffer(xBytes));
    this.ys = Array.from({ length: depth }, () => new SharedArrayBuffer(yBytes));
    // One flag per slot, then a stop flag.
    const ctrl = new SharedArrayBuffer(4 * (depth + 1));
    this.flags = new Int32Array(ctrl);
    this.worker = new Worker(workerCode, {
      eval: true,
      workerData: {
        tsx: import.meta.resolve('tsx/esm/api'), url: new URL('./loader.js', import.meta.url).href.replace(/\.js$/, '.ts'),
        spec, depth, xs: this.xs, ys: this.ys, ctrl, start: this.current,
      },
    });
    this.worker.on('error', (e) => { this.failure = e; });
    this.worker.unref();
  }

  get state(): LoaderState { return { ...this.current }; }
  get batchesPerEpoch(): number { return batchesPerEpoch(this.spec); }

  /** The next training batch. Its arrays are valid until the following call. */
  next(): Batch {
    if (this.held >= 0) {
      Atomics.store(this.flags, this.held, EMPTY);
      Atomics.notify(this.flags, this.held);
    }
    const slot = this.consumed % this.depth;
    while (Atomics.load(this.flags, slot) !== FULL) {
      if (this.failure) throw this.failure;
      Atomics.wait(this.flags, slot, EMPTY, 100);
    }
    this.held = slot;
    this.consumed++;
    const n = this.spec.batchSize; // training batches are always full (drop_last)
    const x = new Float32Array(this.xs[slot]!);
    const y = this.spec.labelType === 'int64' ? new BigInt64Array(this.ys[slot]!) : new Int32Array(this.ys[slot]!);
    const b: Batch = { x, y, n, epoch: this.current.epoch, index: this.current.position / this.spec.batchSize };
    this.current = nextState(this.spec, this.current);
    return b;
  }

  close(): Promise<number> {
    Atomics.store(this.flags, this.depth, 1);
    for (let i = 0; i < this.depth; i++) Atomics.notify(this.flags, i);
    return this.worker.terminate();
  }
}
