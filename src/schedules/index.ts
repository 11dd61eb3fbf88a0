/**
 * Learning-rate and momentum schedules: pure functions `iter -> {lr, momentum}`.
 * - core.ts: the Schedule type, composition (join, sequence, warm-up) and primitives.
 * - caffe.ts: Caffe's policies and Smith's triangular / triangular2 / exp_range.
 * - pytorch.ts: CyclicLR, OneCycleLR, CosineAnnealingWarmRestarts.
 * - fastai.ts: fit_one_cycle and the LR range test.
 * - registry.ts: policy name + options -> ScheduleConfig -> Schedule (what the trainer uses).
 * - options.ts: the CLI option table shared by `schedule` and `train`.
 */
export * from './core.js';
export * from './caffe.js';
export * from './pytorch.js';
export * from './fastai.js';
export * from './registry.js';
export * from './options.js';
