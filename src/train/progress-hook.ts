/** A hook that draws training progress on stderr: iteration, lr, loss, last test accuracy, images/s, ETA. */
import { Progress } from '../util/progress.js';
import type { Hooks } from './hooks.js';

/**
 * `display` (Caffe's): when stderr is not a terminal, one line every `display` iterations instead
 * of a line every few seconds; on a terminal the bar redraws continuously.
 */
export function progressHook(label = 'train', quiet = false, display?: number): Hooks {
  const tty = process.stderr.isTTY;
  let bar: Progress | undefined;
  let acc: number | undefined;
  let images = 0;
  let t0 = 0;
  let smooth: number | undefined;
  return {
    onRunStart({ startIter, maxIter }) {
      bar = new Progress({ label, total: maxIter, unit: 'it', quiet, ...(display && !tty ? { plainEveryMs: 0 } : {}) });
      bar.resumeAt(startIter);
      t0 = performance.now();
    },
    onStepEnd(l) {
      images += l.n;
      smooth = smooth === undefined || !Number.isFinite(smooth) ? l.loss : 0.95 * smooth + 0.05 * l.loss;
      if (display && !tty && (l.iter + 1) % display !== 0) return;
      const ips = images / ((performance.now() - t0) / 1000);
      bar?.update(l.iter + 1, `lr ${l.lr.toPrecision(3)} loss ${smooth.toFixed(3)}${acc !== undefined ? ` test ${(acc * 100).toFixed(1)}%` : ''} ${ips.toFixed(0)} img/s`);
    },
    onEvalEnd(l) { if (l.split === 'test') acc = l.accuracy; },
    onRunEnd(l) { bar?.finish(`${l.status}${l.message ? `: ${l.message}` : ''}`); },
  };
}
