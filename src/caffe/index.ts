/**
 * Caffe interop: protobuf text format (prototxt.ts), solver.prototxt -> schedule + trainer
 * settings (solver.ts), training logs -> {solver, train, test} (log.ts).
 */
export * from './issues.js';
export * from './prototxt.js';
export * from './solver.js';
export * from './log.js';
