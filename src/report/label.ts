/**
 * Names and colours of runs in figures: a run is named by its `name` when run.json has one,
 * otherwise by its configuration ("resnet56 triangular 0.1-1.0"), otherwise by its folder. Colours
 * are assigned once per report (or dashboard) in run order, so a run has the same colour in every
 * figure.
 */
import { basename, resolve } from 'node:path';
import type { RunInfo } from './records.js';

/** Vega's category10 (Tableau), the colours Vega-Lite uses by default; Caffe overlays share it. */
export const palette: readonly string[] = [
  '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf',
];

/** An LR as a label shows it: 0, integers with one decimal (1.0), others to 4 significant digits. */
export function fmtLr(x: unknown): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '?';
  if (x === 0) return '0';
  if (Number.isInteger(x)) return x.toFixed(1);
  return String(Number(x.toPrecision(4)));
}

/** `config.model` as a short name: "resnet56" as written, or resnet<6n+2> from an object's stages. */
export function modelLabel(model: unknown): string | undefined {
  if (typeof model === 'string') return model;
  if (typeof model === 'object' && model !== null) {
    const m = model as Record<string, unknown>;
    if (typeof m.name === 'string') return m.name;
    if (Array.isArray(m.stages) && m.stages.every((s) => typeof s === 'number')) {
      return `resnet${2 * (m.stages as number[]).reduce((a, b) => a + b, 0) + 2}`;
    }
  }
  return undefined;
}

/** Policies whose LR starts at base_lr and only decays (Caffe): the label shows base_lr alone. */
const decaying = new Set(['fixed', 'step', 'multistep', 'exp', 'inv', 'poly', 'sigmoid']);
/** Policies whose label shows the peak: "one_cycle max 1.0". */
const peaked = new Set(['one_cycle', 'fit_one_cycle']);

/**
 * The LR part of a label: "triangular 0.1-1.0" for cyclic and range policies, "multistep 0.35"
 * for Caffe's decaying ones, "one_cycle max 1.0" for one-cycle.
 */
export function scheduleLabel(schedule: unknown): string | undefined {
  if (typeof schedule !== 'object' || schedule === null) return undefined;
  const s = schedule as Record<string, unknown>;
  const policy = typeof s.policy === 'string' ? s.policy : undefined;
  if (!policy) return undefined;
  const base = typeof s.baseLr === 'number' ? s.baseLr : undefined, max = typeof s.maxLr === 'number' ? s.maxLr : undefined;
  let lrs: string | undefined;
  if (decaying.has(policy)) lrs = base !== undefined ? fmtLr(base) : undefined;
  else if (peaked.has(policy)) lrs = max !== undefined ? `max ${fmtLr(max)}` : undefined;
  else if (max !== undefined && (base !== undefined || policy === 'range')) lrs = `${fmtLr(base ?? 0)}-${fmtLr(max)}`;
  else if (max !== undefined) lrs = `max ${fmtLr(max)}`;
  else if (base !== undefined) lrs = fmtLr(base);
  return lrs ? `${policy} ${lrs}` : policy;
}

const stem = (p: unknown): string | undefined =>
  typeof p === 'string' && p !== '' ? basename(p).replace(/\.safetensors$/, '') || undefined : undefined;

/**
 * The label of a run without a name: model, policy and LR range; for other kinds the kind, and for
 * interpolations the two end points ("resnet56 interpolation iter-20000↔iter-40000").
 */
export function configLabel(info: RunInfo): string | undefined {
  const c = info.config;
  const parts = [modelLabel(c.model), scheduleLabel(c.schedule)].filter((p): p is string => !!p);
  if (parts.length === 0) return undefined;
  if (info.kind !== 'train' && info.kind !== 'range-test' && !parts.some((p) => p.includes(info.kind))) parts.push(info.kind);
  const from = stem(c.from), to = stem(c.to);
  if (info.kind === 'interpolation' && from && to) parts.push(`${from}↔${to}`);
  return parts.join(' ');
}

export function runLabel(info: RunInfo, dir: string): string {
  return info.name ?? configLabel(info) ?? (basename(resolve(dir)) || dir);
}

/** Makes labels unique: a repeated label gets its folder name, then a counter. */
export function uniqueLabels(items: readonly { label: string; dir: string }[]): string[] {
  const count = new Map<string, number>();
  for (const it of items) count.set(it.label, (count.get(it.label) ?? 0) + 1);
  const seen = new Set<string>();
  return items.map((it) => {
    let l = it.label;
    if ((count.get(l) ?? 0) > 1) l = `${l} [${basename(resolve(it.dir))}]`;
    let k = 2; const base = l;
    while (seen.has(l)) l = `${base} #${k++}`;
    seen.add(l);
    return l;
  });
}

/** Colour i of the palette (wrapping). */
export const colorAt = (i: number): string => palette[i % palette.length]!;
