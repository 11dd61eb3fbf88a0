/** The engine's public surface: tensors, scopes, ops, autograd, modules, layers and optimizers. */
export { Tensor, tidy, keep, memory, disposeAll, type DType, type MemoryFormat, type TypedArray } from './tensor.js';
export * from './ops.js';
export { noGrad, enableGrad, isGradEnabled, grad, type GradOptions } from './autograd.js';
export { Module } from './module.js';
export * from './nn.js';
export * from './optim.js';
export { EngineError, native, addonPath } from './native.js';
