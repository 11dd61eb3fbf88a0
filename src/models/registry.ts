/**
 * Model names and configurations: `resnet20`, `resnet56`, `resnet110`, ... (any even depth >= 8),
 * resolved into a full, JSON-serialisable configuration that checkpoints carry in their metadata.
 */
import { LosstopoError } from '../errors.js';
import { closest } from '../cli/options.js';
import { ResNet, resnetDefaults, shortcuts, stagesForDepth, type ResNetConfig, type Shortcut } from './resnet.js';
import type { Init, MemoryFormat } from '../engine/index.js';

export type ModelConfig = ResNetConfig;

export interface ModelOptions {
  shortcut?: Shortcut;
  init?: Init;
  inChannels?: number;
  classes?: number;
  widthMult?: number;
  stages?: number[];
  bnMomentum?: number;
  memoryFormat?: MemoryFormat;
}

export const modelNames = ['resnet20', 'resnet32', 'resnet44', 'resnet56', 'resnet110'];

/** `resnetN` with any even N >= 8 -> a full configuration. */
export function resolveModel(name: string, o: ModelOptions = {}): ModelConfig {
  const m = /^resnet(\d+)$/.exec(name);
  if (!m) {
    const hint = closest(name, modelNames);
    throw new LosstopoError({ code: 'invalid_config', path: 'model', received: name },
      `expected a model named resnet<depth> (${modelNames.join(', ')}, ...), received ${JSON.stringify(name)}${hint ? `; did you mean ${hint}?` : ''}`);
  }
  if (o.shortcut && !shortcuts.includes(o.shortcut))
    throw new LosstopoError({ code: 'invalid_config', path: 'shortcut', received: o.shortcut }, `expected one of ${shortcuts.join('|')}, received ${JSON.stringify(o.shortcut)}`);
  const stages = o.stages ?? stagesForDepth(Number(m[1]));
  const cfg: ResNetConfig = { ...resnetDefaults, stages };
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== 'stages') (cfg as unknown as Record<string, unknown>)[k] = v;
  return cfg;
}

export function modelName(cfg: ModelConfig): string {
  return `resnet${2 * cfg.stages.reduce((a, b) => a + b, 0) + 2}`;
}

export function buildModel(cfg: ModelConfig, seed: number): ResNet {
  return new ResNet(cfg, seed);
}
