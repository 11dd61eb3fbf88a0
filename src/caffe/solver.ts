/**
 * Caffe `solver.prototxt` -> a losstopo schedule config plus the settings the trainer needs.
 *
 * Fields follow caffe.proto's SolverParameter (plus `max_lr` from Smith's CLR fork). Values are
 * checked against each field's type; a field given twice that is not `repeated` is an error (as in
 * protobuf's text parser); unknown fields are kept in `settings.extra` and reported as issues.
 * The LR policy is mapped through the schedule registry, so a solver's schedule is checked like CLI
 * options, with messages naming the solver field and its line.
 */
import { readFileSync, statSync } from 'node:fs';
import { LosstopoError, expected, isLosstopoError } from '../errors.js';
import { type Policy, type ScheduleConfig, policies, resolveSchedule } from '../schedules/registry.js';
import type { CaffeIssue } from './issues.js';
import { type PField, type PValue, parsePrototxt, plainValue, toPlain } from './prototxt.js';

type FieldType = 'float' | 'int' | 'string' | 'bool' | 'message' | { enum: readonly string[] };

/** SolverParameter's fields (caffe.proto) and their types; `repeated` ones are always arrays. */
const solverFields: Record<string, { type: FieldType; repeated?: true }> = {
  net: { type: 'string' }, net_param: { type: 'message' },
  train_net: { type: 'string' }, test_net: { type: 'string', repeated: true },
  train_net_param: { type: 'message' }, test_net_param: { type: 'message', repeated: true },
  train_state: { type: 'message' }, test_state: { type: 'message', repeated: true },
  test_iter: { type: 'int', repeated: true }, test_interval: { type: 'int' },
  test_compute_loss: { type: 'bool' }, test_initialization: { type: 'bool' },
  base_lr: { type: 'float' }, display: { type: 'int' }, average_loss: { type: 'int' },
  max_iter: { type: 'int' }, iter_size: { type: 'int' }, lr_policy: { type: 'string' },
  gamma: { type: 'float' }, power: { type: 'float' }, momentum: { type: 'float' },
  weight_decay: { type: 'float' }, regularization_type: { type: 'string' },
  stepsize: { type: 'int' }, stepvalue: { type: 'int', repeated: true },
  clip_gradients: { type: 'float' }, snapshot: { type: 'int' }, snapshot_prefix: { type: 'string' },
  snapshot_diff: { type: 'bool' }, snapshot_format: { type: { enum: ['HDF5', 'BINARYPROTO'] } },
  solver_mode: { type: { enum: ['CPU', 'GPU'] } }, device_id: { type: 'int' }, random_seed: { type: 'int' },
  type: { type: 'string' }, delta: { type: 'float' }, momentum2: { type: 'float' }, rms_decay: { type: 'float' },
  debug_info: { type: 'bool' }, snapshot_after_train: { type: 'bool' },
  solver_type: { type: { enum: ['SGD', 'NESTEROV', 'ADAGRAD', 'RMSPROP', 'ADADELTA', 'ADAM'] } },
  layer_wise_reduce: { type: 'bool' }, weights: { type: 'string', repeated: true },
  // Smith's fork (github.com/lsmith54): the upper bound of the cyclical policies.
  max_lr: { type: 'float' },
};

export const repeatedSolverFields: ReadonlySet<string> = new Set(Object.entries(solverFields).filter(([, f]) => f.repeated).map(([k]) => k));

/** Caffe's learning-rate policies (BVLC) and Smith's cyclical ones; losstopo policy names match. */
export const caffePolicies = ['fixed', 'step', 'multistep', 'exp', 'inv', 'poly', 'sigmoid', 'triangular', 'triangular2', 'exp_range'] as const satisfies readonly Policy[];

export const solverTypes = ['SGD', 'Nesterov', 'AdaGrad', 'RMSProp', 'AdaDelta', 'Adam'] as const;
export type SolverType = (typeof solverTypes)[number];

/** What the trainer needs besides the schedule; Caffe's defaults where the file is silent. */
export interface SolverSettings {
  type: SolverType;
  maxIter: number | null;
  /** Caffe's momentum (SGD/Nesterov momentum, Adam beta1, AdaDelta decay); default 0. */
  momentum: number;
  weightDecay: number;
  regularizationType: 'L1' | 'L2';
  /** L2-norm clipping threshold, or null when off (Caffe: < 0). */
  clipGradients: number | null;
  iterSize: number;
  /** AdaGrad/RMSProp/AdaDelta/Adam epsilon; default 1e-8. */
  delta: number;
  /** Adam beta2; default 0.999. */
  momentum2: number;
  /** RMSProp decay; default 0.99. */
  rmsDecay: number;
  testInterval: number;
  testIter: number[];
  testInitialization: boolean;
  display: number;
  averageLoss: number;
  snapshot: number;
  snapshotPrefix: string | null;
  snapshotAfterTrain: boolean;
  net: string | null;
  solverMode: 'CPU' | 'GPU';
  deviceId: number;
  /** null when Caffe picks a seed (-1, the default). */
  randomSeed: number | null;
  /** Unknown fields, kept as read. */
  extra: Record<string, unknown>;
}

export interface SolverRead {
  /** Every field as a plain object (repeated fields as arrays). */
  solver: Record<string, unknown>;
  schedule: ScheduleConfig;
  settings: SolverSettings;
  issues: CaffeIssue[];
}

const snakeOf: Record<string, string> = { baseLr: 'base_lr', maxLr: 'max_lr', maxIter: 'max_iter', stepsize: 'stepsize', gamma: 'gamma', power: 'power', stepvalue: 'stepvalue', momentum: 'momentum' };

function typeName(t: FieldType): string {
  return typeof t === 'object' ? `one of ${t.enum.join('|')}` : t === 'float' ? 'a number' : t === 'int' ? 'an integer' : t === 'bool' ? 'true or false' : t === 'string' ? 'a quoted string' : 'a { ... } block';
}

function shown(v: PValue): unknown {
  return v.kind === 'message' ? '{...}' : v.value;
}

/** Checks one field's value against its declared type; returns the plain value. */
function checkField(f: PField, t: FieldType, file: string | undefined): unknown {
  const v = f.value;
  const bad = (): never => {
    const e = expected(f.name, typeName(t), shown(v), 'invalid_file');
    throw new LosstopoError({ ...e.info, ...(file ? { file } : {}), line: f.line }, e.message);
  };
  if (t === 'message') return v.kind === 'message' ? plainValue(v) : bad();
  if (t === 'float') return v.kind === 'number' ? v.value : bad();
  if (t === 'int') return v.kind === 'number' && Number.isInteger(v.value) ? v.value : bad();
  if (t === 'string') return v.kind === 'string' ? v.value : bad();
  if (t === 'bool') {
    if (v.kind === 'ident' && /^(true|false|t|f|True|False)$/.test(v.value)) return /^(true|t|True)$/.test(v.value);
    return v.kind === 'number' && (v.value === 0 || v.value === 1) ? v.value === 1 : bad();
  }
  if (v.kind === 'ident' && t.enum.includes(v.value)) return v.value;
  if (v.kind === 'number' && Number.isInteger(v.value) && v.value >= 0 && v.value < t.enum.length) return t.enum[v.value];
  return bad();
}

/** Reads the fields of a solver (already parsed). `file` names the source in messages. */
export function solverFromFields(fields: readonly PField[], file?: string): SolverRead {
  const issues: CaffeIssue[] = [];
  const where = (line: number): { file?: string; line: number } => ({ ...(file ? { file } : {}), line });
  const values: Record<string, unknown> = {};
  const lines: Record<string, number> = {};
  const extra: Record<string, unknown> = {};
  for (const f of fields) {
    const decl = solverFields[f.name];
    if (!decl) {
      issues.push({ code: 'unknown_field', path: f.name, ...where(f.line), message: 'not a Caffe solver field; kept in settings.extra, not used' });
      const v = plainValue(f.value);
      extra[f.name] = f.name in extra ? [...([] as unknown[]).concat(extra[f.name]), v] : v;
      continue;
    }
    const v = checkField(f, decl.type, file);
    if (decl.repeated) { ((values[f.name] ??= []) as unknown[]).push(v); lines[f.name] ??= f.line; continue; }
    if (f.name in values) {
      throw new LosstopoError({ code: 'invalid_file', path: f.name, ...where(f.line) }, `is not a repeated field but is given again (first on line ${lines[f.name]})`);
    }
    values[f.name] = v;
    lines[f.name] = f.line;
  }
  const solver = toPlain(fields, repeatedSolverFields);

  // Solver type: `type` (string) or the deprecated `solver_type` (enum), not both (as Caffe).
  let type: SolverType = 'SGD';
  if (values.type !== undefined && values.solver_type !== undefined) {
    throw new LosstopoError({ code: 'invalid_file', path: 'solver_type', ...where(lines.solver_type!) }, 'the deprecated solver_type and type cannot both be given');
  }
  if (values.type !== undefined) {
    const t = solverTypes.find((s) => s.toLowerCase() === String(values.type).toLowerCase());
    if (!t) {
      const e = expected('type', `one of ${solverTypes.join('|')}`, values.type, 'invalid_file');
      throw new LosstopoError({ ...e.info, ...where(lines.type!) }, e.message);
    }
    type = t;
  } else if (values.solver_type !== undefined) {
    type = solverTypes[['SGD', 'NESTEROV', 'ADAGRAD', 'RMSPROP', 'ADADELTA', 'ADAM'].indexOf(values.solver_type as string)]!;
  }

  // The schedule, through the registry, with solver field names in messages.
  const policyLine = lines.lr_policy;
  const policy = values.lr_policy as string | undefined;
  if (policy === undefined) {
    throw new LosstopoError({ code: 'invalid_file', path: 'lr_policy', ...(file ? { file } : {}) }, `is required: expected one of ${caffePolicies.join('|')}, received nothing`);
  }
  if (!(caffePolicies as readonly string[]).includes(policy)) {
    throw new LosstopoError({ code: 'invalid_file', path: 'lr_policy', ...where(policyLine!) },
      `expected a Caffe policy (one of ${caffePolicies.join('|')}), received ${JSON.stringify(policy)}`);
  }
  const options: Record<string, unknown> = {};
  for (const key of policies[policy as Policy].keys) {
    const field = snakeOf[key];
    if (field !== undefined && values[field] !== undefined) options[key] = values[field];
  }
  let schedule: ScheduleConfig;
  try {
    schedule = resolveSchedule(policy, options, (key) => snakeOf[key] ?? key);
  } catch (e) {
    if (!isLosstopoError(e)) throw e;
    const field = e.info.path ?? '';
    const line = lines[field] ?? policyLine;
    const message = e.info.received === 'nothing' ? e.message.replace('is required by policy', 'is required by lr_policy') : e.message;
    throw new LosstopoError({ ...e.info, code: 'invalid_file', ...(file ? { file } : {}), ...(line ? { line } : {}) }, message);
  }
  // Fields the policy does not use are fine in Caffe (max_iter always is); only note the odd ones.
  for (const f of ['gamma', 'power', 'stepsize', 'stepvalue', 'max_lr']) {
    const key = Object.keys(snakeOf).find((k) => snakeOf[k] === f)!;
    if (values[f] !== undefined && !policies[policy as Policy].keys.includes(key)) {
      issues.push({ code: 'ignored_field', path: f, ...where(lines[f]!), message: `not used by lr_policy ${policy}` });
    }
  }

  const num = (k: string, d: number): number => (values[k] as number | undefined) ?? d;
  const clip = num('clip_gradients', -1);
  const seed = num('random_seed', -1);
  const reg = String(values.regularization_type ?? 'L2');
  if (reg !== 'L1' && reg !== 'L2') {
    throw new LosstopoError({ code: 'invalid_file', path: 'regularization_type', ...where(lines.regularization_type!) }, `expected L1 or L2, received ${JSON.stringify(reg)}`);
  }
  const iterSize = num('iter_size', 1);
  if (iterSize < 1) throw new LosstopoError({ code: 'invalid_file', path: 'iter_size', ...where(lines.iter_size!) }, `expected an integer >= 1, received ${iterSize}`);
  const settings: SolverSettings = {
    type,
    maxIter: (values.max_iter as number | undefined) ?? null,
    momentum: num('momentum', 0),
    weightDecay: num('weight_decay', 0),
    regularizationType: reg,
    clipGradients: clip < 0 ? null : clip,
    iterSize,
    delta: num('delta', 1e-8),
    momentum2: num('momentum2', 0.999),
    rmsDecay: num('rms_decay', 0.99),
    testInterval: num('test_interval', 0),
    testIter: (values.test_iter as number[] | undefined) ?? [],
    testInitialization: (values.test_initialization as boolean | undefined) ?? true,
    display: num('display', 0),
    averageLoss: num('average_loss', 1),
    snapshot: num('snapshot', 0),
    snapshotPrefix: (values.snapshot_prefix as string | undefined) ?? null,
    snapshotAfterTrain: (values.snapshot_after_train as boolean | undefined) ?? true,
    net: (values.net as string | undefined) ?? (values.train_net as string | undefined) ?? null,
    solverMode: (values.solver_mode as 'CPU' | 'GPU' | undefined) ?? 'GPU',
    deviceId: num('device_id', 0),
    randomSeed: seed < 0 ? null : seed,
    extra,
  };
  return { solver, schedule, settings, issues };
}

/** Parses solver.prototxt text. */
export function parseSolver(text: string, file?: string): SolverRead {
  return solverFromFields(parsePrototxt(text, file), file);
}

/** Reads a solver.prototxt file. */
export function readSolver(path: string): SolverRead {
  return parseSolver(readTextFile(path), path);
}

/** Reads a text file, turning a missing or unreadable file into a one-line LosstopoError. */
export function readTextFile(path: string): string {
  let st;
  try { st = statSync(path); } catch {
    throw new LosstopoError({ code: 'missing_file', file: path }, 'no such file');
  }
  if (!st.isFile()) throw new LosstopoError({ code: 'invalid_file', file: path }, 'is not a regular file');
  try { return readFileSync(path, 'utf8'); } catch (e) {
    throw new LosstopoError({ code: 'invalid_file', file: path }, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
