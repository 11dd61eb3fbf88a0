/** Evaluation: mean loss and accuracy of a model over one pass of a loader, inference only. */
import { Tensor, crossEntropy, countCorrect, noGrad, tidy, type Module } from '../engine/index.js';
import type { Batch, BatchLoader } from '../data/index.js';

export interface EvalResult { loss: number; accuracy: number; count: number }

/** Input and int64 label tensors of a batch (NCHW; the model picks its own memory format). */
export function batchTensors(b: Batch, shape: { channels: number; height: number; width: number }): { x: Tensor; y: Tensor } {
  const x = Tensor.fromData(b.x, [b.n, shape.channels, shape.height, shape.width]);
  const y = b.y instanceof BigInt64Array ? Tensor.fromData(b.y, [b.n]) : Tensor.fromData(b.y, [b.n]).to('int64');
  return { x, y };
}

/**
 * Evaluates without autograd, in eval mode (running BN statistics) or, with `batchStatistics`, in
 * train mode (each batch normalised by its own statistics; the running ones are updated as a side
 * effect). Restores the previous mode.
 */
export function evaluate(model: Module, loader: BatchLoader, shape: { channels: number; height: number; width: number }, o: { batchStatistics?: boolean } = {}): EvalResult {
  const wasTraining = model.training;
  model.train(o.batchStatistics ?? false);
  let lossSum = 0, correct = 0, count = 0;
  try {
    noGrad(() => {
      for (const b of loader) tidy(() => {
        const { x, y } = batchTensors(b, shape);
        const logits = model.forward(x);
        lossSum += crossEntropy(logits, y, 'sum').item();
        correct += countCorrect(logits, y);
        count += b.n;
      });
    });
  } finally {
    model.train(wasTraining);
  }
  return { loss: lossSum / count, accuracy: correct / count, count };
}
