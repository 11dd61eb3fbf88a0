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

/** The LR part of a label: "0.1-1.0" for cyclic and range policies, "0.35" for step decays. */
export function scheduleLabel(schedule: unknown): string | undefined {
  if (typeof schedule !== 'object' || schedule === null) return undefined;
  const s = schedule as Record<string, unknown>;
  const policy = typeof s.policy === 'string' ? s.policy : undefined;
  if (!policy) return undefined;
  const base = s.baseLr, max = s.maxLr;
  let lrs: string | undefined;
  if (typeof max === 'number' && (typeof base === 'number' || policy === 'range')) lrs = `${fmtLr(typeof base === 'number' ? base : 0)}-${fmtLr(max)}`;
  else if (typeof max === 'number') lrs = `max ${fmtLr(max)}`;
  else if (typeof base === 'number') lrs = fmtLr(base);
  return lrs ? `${policy} ${lrs}` : policy;
}

/** The label of a run without a name: model, policy and LR range; the kind for interpolations. */
export function configLabel(info: RunInfo): string | undefined {
  const c = info.config;
  const parts = [modelLabel(c.model), scheduleLabel(c.schedule)].filter((p): p is string => !!p);
  if (parts.length === 0) return undefined;
  if (info.kind !== 'train' && info.kind !== 'range-test' && !parts.some((p) => p.includes(info.kind))) parts.push(info.kind);
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
