/**
 * CLR / super-convergence against a step-decay baseline — Smith & Topin (2017) Fig. 2b: ResNet-56
 * on CIFAR-10, one triangular CLR cycle between LR 0.1 and 1.0 (stepsize 10k, 20k iterations)
 * against standard training at LR 0.35 divided by 10 at 50k, 75k and 85k (95k iterations).
 *
 * Expected result (paper, Caffe): the CLR run reaches ~93% test accuracy in one cycle of 20k
 * iterations; the baseline ends at ~91% after 95k ("super-convergence").
 *
 * Both runs share the model, data, optimizer and seed; only the schedule and length differ. Each
 * is an ordinary run folder (OUT/clr, OUT/baseline); OUT/run.json (kind 'compare') holds the
 * comparison. The CLR run snapshots at the end of every cycle (every 2 x stepsize), the checkpoints
 * the interpolation experiment compares; a one_cycle run (one cycle) and the baseline every tenth of
 * their length. With `continueUnfinished` a killed comparison continues: a completed arm is kept,
 * an interrupted one resumes from its latest checkpoint.
 */
import { join } from 'node:path';
import { firstDifference } from '../util/difference.js';
import { prepareData } from '../data/index.js';
import { dataConfigOf, resolveTrainConfig, type TrainConfig } from '../train/config.js';
import { train, type TrainResult } from '../train/trainer.js';
import type { EvalLog, Hooks } from '../train/hooks.js';
import { existsSync } from 'node:fs';
import { inRunFolder, readMetrics, RunStore } from '../train/runstore.js';
import { listCheckpoints } from '../train/checkpoint.js';
import type { EvalResult } from '../train/evaluate.js';
import { LosstopoError } from '../errors.js';

// --- defaults (the paper's Fig. 2b) --------------------------------------------------------------
export const compareDefaults = Object.freeze({
  clr: Object.freeze({
    /** 'triangular' (the paper) or 'one_cycle' (PyTorch OneCycleLR: max-lr peak, starts at max/divFactor). */
    policy: 'triangular' as 'triangular' | 'one_cycle',
    /** Lower LR of the cycle (one_cycle: the start LR, divFactor = maxLr / baseLr). */
    baseLr: 0.1,
    /** Upper LR of the cycle. */
    maxLr: 1.0,
    /** Iterations per half cycle (triangular). */
    stepsize: 10_000,
    /** Length of the CLR run in iterations (one cycle: 2 x stepsize). */
    iters: 20_000,
  }),
  baseline: Object.freeze({
    /** Initial LR of the step-decay baseline. */
    lr: 0.35,
    /** Iterations at which the LR is multiplied by gamma. */
    stepvalue: Object.freeze([50_000, 75_000, 85_000]),
    gamma: 0.1,
    /** Length of the baseline in iterations. */
    iters: 95_000,
  }),
  /** Test accuracy whose first crossing is reported as iterations-to-target. */
  target: 0.9,
});

export interface CompareConfig {
  /** Partial training configuration shared by both runs (model, data, optimizer, testInterval, ...). */
  train: Record<string, unknown>;
  clr?: Partial<{ policy: 'triangular' | 'one_cycle'; baseLr: number; maxLr: number; stepsize: number; iters: number }>;
  baseline?: Partial<{ lr: number; stepvalue: number[]; gamma: number; iters: number }>;
  target?: number;
}

export interface ArmResult {
  name: 'clr' | 'baseline';
  status: TrainResult['status'];
  message?: string;
  runDir: string | null;
  iterations: number;
  finalTestAccuracy: number | null;
  finalTestLoss: number | null;
  bestTestAccuracy: number | null;
  bestTestIter: number | null;
  /** First evaluated iteration whose test accuracy reached the target (null: never). */
  itersToTarget: number | null;
  /** Every test evaluation: [iter, accuracy, loss]. */
  curve: [number, number, number][];
}

export interface CompareResult { target: number; clr: ArmResult; baseline: ArmResult; config: { clr: TrainConfig; baseline: TrainConfig }; outDir: string | null }

// --- configurations ------------------------------------------------------------------------------
/** Snapshot interval for a run that has no cycle ends to snapshot at: a tenth of it, so a kill loses little. */
const tenth = (iters: number): number => Math.max(1, Math.round(iters / 10));

export function resolveCompare(c: CompareConfig): { clr: TrainConfig; baseline: TrainConfig; target: number } {
  const d = compareDefaults;
  const k = { ...d.clr, ...c.clr };
  const b = { ...d.baseline, stepvalue: [...d.baseline.stepvalue], ...c.baseline };
  const clrSchedule = k.policy === 'one_cycle'
    ? { policy: 'one_cycle', maxLr: k.maxLr, totalSteps: k.iters, divFactor: k.maxLr / k.baseLr }
    : { policy: 'triangular', baseLr: k.baseLr, maxLr: k.maxLr, stepsize: k.stepsize };
  const clr = resolveTrainConfig({
    ...c.train, name: `${String(c.train.name ?? 'compare')}-clr`, schedule: clrSchedule, maxIter: k.iters,
    snapshot: k.policy === 'one_cycle' ? tenth(k.iters) : 2 * k.stepsize,
  }, 'compare --clr-*');
  const baseline = resolveTrainConfig({
    ...c.train, name: `${String(c.train.name ?? 'compare')}-baseline`, schedule: { policy: 'multistep', baseLr: b.lr, stepvalue: b.stepvalue, gamma: b.gamma }, maxIter: b.iters,
    snapshot: tenth(b.iters),
  }, 'compare --baseline-*');
  return { clr, baseline, target: c.target ?? d.target };
}

// --- run -----------------------------------------------------------------------------------------
/** First iteration whose accuracy reaches `target` in an evaluation curve. */
export function itersToTarget(curve: readonly [number, number, number][], target: number): number | null {
  for (const [it, acc] of curve) if (acc >= target) return it;
  return null;
}

export interface CompareRunOptions {
  out?: string;
  hooks?: (name: 'clr' | 'baseline') => Hooks[];
  handleSignals?: boolean;
  /** Continue the unfinished comparison in `out`: a completed arm is kept, an interrupted one resumes from its checkpoint. */
  continueUnfinished?: boolean;
}

/** Every test evaluation of a run folder as [iter, accuracy, loss]. */
function testCurve(dir: string): [number, number, number][] {
  return readMetrics(dir).flatMap((r) => ('split' in r && r.split === 'test' ? [[r.iter, r.accuracy, r.loss] as [number, number, number]] : []));
}

/** A continued comparison must be the one started in `dir`: the first setting that differs is named. */
function sameConfig(dir: string, now: { clr: TrainConfig; baseline: TrainConfig; target: number }): void {
  const path = firstDifference(RunStore.readRecord(dir).config, now, 2);
  if (path !== undefined) throw new LosstopoError({ code: 'run_error', file: `${dir}/run.json`, path }, 'differs from the comparison being continued (use the same settings as its start)');
}

export async function runCompare(c: CompareConfig, o: CompareRunOptions = {}): Promise<CompareResult> {
  const r = resolveCompare(c);
  const data = await prepareData(dataConfigOf(r.clr));
  return inRunFolder(o.out, async (open) => {
    const config = { clr: r.clr, baseline: r.baseline, target: r.target };
    // Checked before reopening, so a refused continuation leaves the run as it was.
    if (o.out && o.continueUnfinished && existsSync(join(o.out, 'run.json'))) sameConfig(o.out, config);
    const store = open('compare', config, r.clr.seed, String(c.train.name ?? 'compare'), o.continueUnfinished);
    const arm = async (name: 'clr' | 'baseline', cfg: TrainConfig): Promise<ArmResult> => {
      const dir = store ? join(store.dir, name) : null;
      const prior = dir && o.continueUnfinished && existsSync(join(dir, 'run.json')) ? RunStore.readRecord(dir) : null;
      let t: Omit<TrainResult, 'runDir'>;
      const curve: [number, number, number][] = [];
      if (prior?.status === 'completed') {
        const m = (prior.summary ?? {}) as Record<string, number | null>;
        const ev = (acc: number | null | undefined, loss: number | null | undefined): EvalResult | null => (acc == null ? null : { accuracy: acc, loss: loss ?? NaN, count: 0 });
        const best = ev(m.bestTestAccuracy, null);
        t = { status: 'completed', iterations: prior.iter ?? cfg.maxIter, finalTest: ev(m.finalTestAccuracy, m.finalTestLoss), bestTest: best ? { ...best, iter: m.bestTestIter ?? 0 } : null };
      } else {
        if (prior && !listCheckpoints(join(dir!, 'checkpoints'), true).length) {
          throw new LosstopoError({ code: 'run_error', file: dir! }, `holds an unfinished ${name} run without a checkpoint to continue from; remove it to run it again`);
        }
        const rec: Hooks = { onEvalEnd: (l: EvalLog) => { if (l.split === 'test') curve.push([l.iter, l.accuracy, l.loss]); } };
        t = await train(cfg, { ...(prior ? { resume: dir! } : dir ? { out: dir } : {}), data, hooks: [rec, ...(o.hooks?.(name) ?? [])], handleSignals: o.handleSignals ?? false });
      }
      // The run folder holds every evaluation, also those before a resume.
      const evals = dir ? testCurve(dir) : curve;
      return {
        name, status: t.status, ...(t.message ? { message: t.message } : {}), runDir: dir, iterations: t.iterations,
        finalTestAccuracy: t.finalTest?.accuracy ?? null, finalTestLoss: t.finalTest?.loss ?? null,
        bestTestAccuracy: t.bestTest?.accuracy ?? null, bestTestIter: t.bestTest?.iter ?? null,
        itersToTarget: itersToTarget(evals, r.target), curve: evals,
      };
    };
    const clr = await arm('clr', r.clr);
    const baseline = await arm('baseline', r.baseline);
    const result: CompareResult = { target: r.target, clr, baseline, config: { clr: r.clr, baseline: r.baseline }, outDir: store?.dir ?? null };
    const status = clr.status === 'completed' && baseline.status === 'completed' ? 'completed' : clr.status !== 'completed' ? clr.status : baseline.status;
    store?.finish('compare.json', JSON.stringify(compareDoc(result), null, 1) + '\n', status, compareDoc(result));
    return result;
  });
}

/** The comparison without the curves (compare.json and the --json document). */
export function compareDoc(r: CompareResult): Record<string, unknown> {
  const arm = ({ curve: _c, ...a }: ArmResult): Record<string, unknown> => a;
  return { target: r.target, clr: arm(r.clr), baseline: arm(r.baseline), outDir: r.outDir };
}
