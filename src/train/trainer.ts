/**
 * The training loop, with Caffe's solver semantics: iteration k computes the loss and gradients at
 * the current weights and applies the update with the schedule's lr(k) and momentum(k); the test
 * split is evaluated at iteration 0 and every `testInterval` iterations (on the weights after k
 * updates, as Caffe's "Iteration k, Testing net") and at the end; checkpoints every `snapshot`
 * iterations and at the end. The trainer knows no experiment: behaviour is added through hooks.
 *
 * Failure is data: a NaN/inf loss or one above `divergeLoss` ends the run as `diverged` with every
 * metric so far kept; SIGINT/SIGTERM end it as `interrupted` after a final checkpoint; a resumed
 * run continues exactly as the uninterrupted one would have.
 */
import { Optimizer, crossEntropy, setThreads, tidy, type ParamGroup } from '../engine/index.js';
import { evalLoader, prepareData, trainLoader, subsetTest, makeBatchSpec, BatchLoader, type PreparedData } from '../data/index.js';
import { buildModel, type ModelConfig } from '../models/registry.js';
import type { ResNet } from '../models/resnet.js';
import { scheduleFromConfig, type Schedule } from '../schedules/index.js';
import { LosstopoError } from '../errors.js';
import { dataConfigOf, modelConfigOf, type TrainConfig } from './config.js';
import { batchTensors, evaluate, type EvalResult } from './evaluate.js';
import { PrefetchLoader } from '../data/prefetch.js';
import { HookList, type EvalLog, type Hooks, type RunEndLog, type StepLog } from './hooks.js';
import { readMetrics, RunStore } from './runstore.js';
import { listCheckpoints, loadCheckpoint, loadTrainingState, saveCheckpoint } from './checkpoint.js';

export interface TrainResult {
  status: RunEndLog['status'];
  iterations: number;
  finalTest: EvalResult | null;
  bestTest: (EvalResult & { iter: number }) | null;
  runDir: string | null;
  message?: string;
}

/** Parameter groups of the authors' Caffe nets: biases at biasLrMult x LR with biasDecayMult x decay. */
export function paramGroups(model: ResNet, c: Pick<TrainConfig, 'biasLrMult' | 'biasDecayMult'>): { groups: ParamGroup[]; names: string[] } {
  const named = model.namedParameters();
  const weights = named.filter(([n]) => !n.endsWith('.bias'));
  const biases = named.filter(([n]) => n.endsWith('.bias'));
  return {
    groups: [{ params: weights.map(([, t]) => t) }, { params: biases.map(([, t]) => t), lrMult: c.biasLrMult, decayMult: c.biasDecayMult }],
    names: [...weights, ...biases].map(([n]) => n),
  };
}

export interface TrainSetup {
  config: TrainConfig;
  data: PreparedData;
  modelConfig: ModelConfig;
  model: ResNet;
  optimizer: Optimizer;
  paramNames: string[];
  schedule: Schedule;
}

/** Everything a run needs, built from its configuration alone. */
export async function setupTraining(config: TrainConfig, data?: PreparedData): Promise<TrainSetup> {
  setThreads(config.threads);
  const d = data ?? (await prepareData(dataConfigOf(config)));
  const modelConfig = modelConfigOf(config, d.classes.length, d.train.channels);
  const model = buildModel(modelConfig, config.seed);
  const { groups, names } = paramGroups(model, config);
  const optimizer = new Optimizer(config.optimizer, groups, { momentumForm: config.momentumForm });
  return { config, data: d, modelConfig, model, optimizer, paramNames: names, schedule: scheduleFromConfig(config.schedule) };
}

export interface TrainOptions {
  /** Run folder to create (omit for a run kept in memory only). */
  out?: string;
  /** Continue the run in this folder from its latest checkpoint. */
  resume?: string;
  hooks?: Hooks[];
  /** Prepared data to reuse (experiments that train several nets on the same data). */
  data?: PreparedData;
  /** Stop when aborted (in addition to SIGINT/SIGTERM when `handleSignals`). */
  signal?: AbortSignal;
  handleSignals?: boolean;
  kind?: 'train' | 'range-test';
  /** Called with the setup before training starts (e.g. to keep the model after the run). */
  onSetup?: (s: TrainSetup) => void;
  /** Keep the model alive after the run (the caller disposes it); default: disposed. */
  keepModel?: boolean;
  /** Assemble batches ahead on a worker thread (default true); false uses the main thread. */
  prefetch?: boolean;
}

export async function train(config: TrainConfig, o: TrainOptions = {}): Promise<TrainResult & { setup: TrainSetup }> {
  const s = await setupTraining(config, o.data);
  const { model, optimizer, data, schedule } = s;
  const shape = data.train;
  let startIter = 0;
  let store: RunStore | null = null;
  // Batches are assembled ahead on a worker thread (see data/prefetch.ts).
  const spec = trainLoader(data, { batchSize: config.batch, labelType: 'int64' }).spec;
  let loaderState = { epoch: 0, position: 0 };
  if (o.resume) {
    const ckDir = `${o.resume}/checkpoints`;
    const iters = listCheckpoints(ckDir, true);
    if (!iters.length) throw new LosstopoError({ code: 'run_error', file: o.resume }, 'has no complete checkpoint to resume from (set --snapshot to write them)');
    startIter = iters[iters.length - 1]!;
    const ck = loadCheckpoint(`${ckDir}/iter-${startIter}.safetensors`);
    model.loadStateDict(ck.state);
    for (const t of ck.state.values()) t.dispose();
    const st = loadTrainingState(ckDir, startIter, optimizer, s.paramNames);
    loaderState = st.loader;
    store = RunStore.reopen(o.resume, st.metricsOffset);
    store.update({ config });
  } else if (o.out) {
    store = RunStore.create(o.out, o.kind ?? 'train', config, config.seed, config.name);
  }
  o.onSetup?.(s);
  const loader = o.prefetch === false ? new BatchLoader(spec, loaderState) : new PrefetchLoader(spec, loaderState);

  const hooks = new HookList(o.hooks ?? []);
  const testLoader = (): BatchLoader => evalLoader(data, 'test', { batchSize: config.evalBatch, labelType: 'int64' });
  const trainSubset = config.testTrainSize > 0 ? subsetTest(data.train, Math.min(config.testTrainSize, data.train.count)) : null;
  const trainEvalLoader = (): BatchLoader | null => trainSubset
    ? new BatchLoader(makeBatchSpec(trainSubset, data.transforms.eval, { batchSize: config.evalBatch, train: false, labelType: 'int64' }))
    : null;

  let finalTest: EvalResult | null = null;
  let bestTest: (EvalResult & { iter: number }) | null = null;
  let lastEvalIter = -1;
  // A resumed run's summary covers its evaluations before the checkpoint too (kept in metrics).
  if (o.resume) {
    for (const r of readMetrics(o.resume)) {
      if (!('split' in r) || r.split !== 'test' || r.iter >= startIter) continue;
      const t: EvalResult = { loss: r.loss, accuracy: r.accuracy, count: data.test.count };
      finalTest = t;
      if (!bestTest || t.accuracy > bestTest.accuracy) bestTest = { ...t, iter: r.iter };
    }
  }
  const runEval = (iter: number): void => {
    lastEvalIter = iter;
    const t = evaluate(model, testLoader(), shape);
    finalTest = t;
    if (!bestTest || t.accuracy > bestTest.accuracy) bestTest = { ...t, iter };
    const logs: EvalLog[] = [{ iter, split: 'test', ...t }];
    const tl = trainEvalLoader();
    if (tl) logs.push({ iter, split: 'train', ...evaluate(model, tl, shape) });
    for (const l of logs) {
      store?.append({ iter: l.iter, split: l.split, loss: l.loss, accuracy: l.accuracy });
      hooks.onEvalEnd(l);
    }
    store?.flush();
  };
  const checkpoint = (iter: number): void => {
    if (!store) return;
    const metricsOffset = store.metricsOffset();
    saveCheckpoint(store.checkpointDir, { iter, model: s.modelConfig, data: data.config }, model,
      { optimizer, paramNames: s.paramNames, state: { iter, loader: loader.state, metricsOffset, optimizerSteps: 0 } });
  };

  let stopSignal: string | undefined;
  const onSignal = (sig: string) => (): void => { stopSignal = sig; };
  const handlers = o.handleSignals ? { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') } : null;
  if (handlers) { process.on('SIGINT', handlers.SIGINT); process.on('SIGTERM', handlers.SIGTERM); }

  let end: RunEndLog = { status: 'completed', iter: startIter };
  let it = startIter;
  model.train();
  hooks.onRunStart({ startIter, maxIter: config.maxIter });
  try {
    for (; it < config.maxIter; it++) {
      // Let signal handlers run (the loop is otherwise synchronous); stop before this iteration's
      // evaluation so a resume from the final checkpoint repeats nothing.
      await new Promise((r) => setImmediate(r));
      if (stopSignal || o.signal?.aborted) {
        end = { status: 'interrupted', iter: it, message: `stopped by ${stopSignal ?? 'abort'} at iteration ${it}` };
        break;
      }
      if (config.testInterval > 0 && it % config.testInterval === 0) runEval(it);
      const point = schedule(it);
      const momentum = point.momentum ?? config.momentum;
      const batch = loader.next();
      const loss = tidy(() => {
        const { x, y } = batchTensors(batch, shape);
        optimizer.zeroGrad();
        const l = crossEntropy(model.forward(x), y);
        const v = l.item();
        if (Number.isFinite(v) && v <= config.divergeLoss) {
          l.backward();
          optimizer.step({ lr: point.lr, momentum, weightDecay: config.weightDecay, clipGradients: config.clipGradients });
        }
        return v;
      });
      const log: StepLog = { iter: it, lr: point.lr, momentum, loss, n: batch.n };
      store?.append({ iter: it, lr: point.lr, momentum, trainLoss: Number.isFinite(loss) ? loss : String(loss) });
      hooks.onStepEnd(log);
      if (!Number.isFinite(loss) || loss > config.divergeLoss) {
        end = { status: 'diverged', iter: it + 1, message: `training loss ${loss} at iteration ${it} (lr ${point.lr}) is ${Number.isFinite(loss) ? `above divergeLoss ${config.divergeLoss}` : 'not finite'}` };
        it++;
        break;
      }
      const reason = hooks.shouldStop(log);
      if (config.snapshot > 0 && (it + 1) % config.snapshot === 0 && it + 1 < config.maxIter) checkpoint(it + 1);
      if (reason) { end = { status: 'completed', iter: it + 1, message: reason }; it++; break; }
    }
    if (end.status === 'completed' && !end.message) end = { status: 'completed', iter: it };
    if (end.status !== 'diverged') {
      // The checkpoint at k never holds the evaluation at k: a resume from it evaluates k first.
      checkpoint(end.iter);
      if (end.status === 'completed' && lastEvalIter !== it && (config.testInterval > 0 || it === config.maxIter)) runEval(it);
    }
  } catch (e) {
    end = { status: 'failed', iter: it, message: (e as Error).message };
    store?.flush();
    store?.update({ status: 'failed', message: end.message, iter: it });
    throw e;
  } finally {
    if (handlers) { process.off('SIGINT', handlers.SIGINT); process.off('SIGTERM', handlers.SIGTERM); }
    if (end.status !== 'failed') {
      hooks.onRunEnd(end);
      const summary = {
        iterations: end.iter,
        finalTestLoss: (finalTest as EvalResult | null)?.loss ?? null,
        finalTestAccuracy: (finalTest as EvalResult | null)?.accuracy ?? null,
        bestTestAccuracy: (bestTest as (EvalResult & { iter: number }) | null)?.accuracy ?? null,
        bestTestIter: (bestTest as (EvalResult & { iter: number }) | null)?.iter ?? null,
      };
      store?.update({ status: end.status, iter: end.iter, message: end.message, summary });
    }
    store?.close();
    if (loader instanceof PrefetchLoader) await loader.close();
    if (!o.keepModel) { model.dispose(); }
  }
  return { status: end.status, iterations: end.iter, finalTest, bestTest, runDir: store?.dir ?? o.out ?? null, ...(end.message ? { message: end.message } : {}), setup: s };
}

