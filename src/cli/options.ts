/**
 * A typed option table per command: each entry names its type, default and help, and parsing
 * returns a value typed from the table. Unknown options are errors that suggest the closest name.
 * Booleans take `--flag` / `--no-flag`; every command accepts `--json` and `--help`.
 */
import { LosstopoError, expected } from '../errors.js';

interface Base { description: string; required?: boolean }
export interface StringOpt extends Base { type: 'string'; default?: string }
export interface NumberOpt extends Base { type: 'number'; default?: number; min?: number; max?: number }
export interface IntOpt extends Base { type: 'int'; default?: number; min?: number }
export interface BoolOpt extends Base { type: 'boolean'; default?: boolean }
export interface ListOpt extends Base { type: 'numbers'; default?: number[] }
export interface StringListOpt extends Base { type: 'strings'; default?: string[] }
export interface EnumOpt<C extends string = string> extends Base { type: 'enum'; choices: readonly C[]; default?: C }
export type OptSpec = StringOpt | NumberOpt | IntOpt | BoolOpt | ListOpt | StringListOpt | EnumOpt;
export type OptTable = Record<string, OptSpec>;

type ValueOf<S> = S extends { type: 'enum'; choices: readonly (infer C)[] } ? C
  : S extends BoolOpt ? boolean
  : S extends NumberOpt | IntOpt ? number
  : S extends ListOpt ? number[]
  : S extends StringListOpt ? string[]
  : string;
type HasDefault<S> = S extends { default: unknown } ? true : S extends { required: true } ? true : false;
export type Parsed<T extends OptTable> = {
  [K in keyof T]: HasDefault<T[K]> extends true ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};

export interface ParseResult<T extends OptTable> {
  values: Parsed<T>;
  positionals: string[];
  json: boolean;
  help: boolean;
  /** Option names (camelCase keys) the user gave explicitly, so config files can be overridden. */
  given: Set<keyof T>;
}

export const kebab = (k: string): string => k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined; let bestD = Infinity;
  for (const c of candidates) { const dd = editDistance(name, c); if (dd < bestD) { bestD = dd; best = c; } }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

export function convert(flag: string, spec: OptSpec, raw: string): unknown {
  switch (spec.type) {
    case 'string': return raw;
    case 'number': case 'int': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw expected(flag, 'a number', raw);
      if (spec.type === 'int' && !Number.isInteger(v)) throw expected(flag, 'an integer', raw);
      if (spec.min !== undefined && v < spec.min) throw expected(flag, `a number >= ${spec.min}`, raw);
      if (spec.type === 'number' && spec.max !== undefined && v > spec.max) throw expected(flag, `a number <= ${spec.max}`, raw);
      return v;
    }
    case 'numbers': return raw.split(',').filter((s) => s !== '').map((s) => {
      const v = Number(s);
      if (!Number.isFinite(v)) throw expected(flag, 'a comma-separated list of numbers', raw);
      return v;
    });
    case 'strings': return raw.split(',').filter((s) => s !== '');
    case 'enum':
      if (!spec.choices.includes(raw)) throw expected(flag, `one of ${spec.choices.join('|')}`, raw);
      return raw;
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw expected(flag, 'true or false', raw);
  }
}

export function parseOptions<T extends OptTable>(command: string, table: T, argv: readonly string[]): ParseResult<T> {
  const byFlag = new Map<string, string>();
  for (const key of Object.keys(table)) byFlag.set(kebab(key), key);
  const values: Record<string, unknown> = {};
  const given = new Set<keyof T>();
  const positionals: string[] = [];
  let json = false; let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
        if (arg === '-h') { help = true; continue; }
        throw new LosstopoError({ code: 'invalid_option', path: arg }, `unknown option for \`losstopo ${command}\`; options are long (--name)`);
      }
      positionals.push(arg); continue;
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (name === 'json' && !byFlag.has('json')) { json = inline === undefined ? true : inline !== 'false'; continue; }
    if (name === 'help') { help = true; continue; }
    let key = byFlag.get(name);
    let negated = false;
    if (!key && name.startsWith('no-') && table[byFlag.get(name.slice(3)) ?? '']?.type === 'boolean') {
      key = byFlag.get(name.slice(3)); negated = true;
    }
    if (!key) {
      const hint = closest(name, [...byFlag.keys(), 'json', 'help']);
      throw new LosstopoError({ code: 'invalid_option', path: `--${name}` },
        `unknown option for \`losstopo ${command}\`${hint ? `; did you mean --${hint}?` : ''} (see \`losstopo ${command} --help\`)`);
    }
    const spec = table[key]!;
    const flag = `--${kebab(key)}`;
    if (spec.type === 'boolean') {
      values[key] = negated ? false : inline === undefined ? true : convert(flag, spec, inline);
    } else {
      if (negated) throw new LosstopoError({ code: 'invalid_option', path: `--${name}` }, 'is not a boolean option');
      if (inline === undefined) {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith('--') && next.length > 2)) throw expected(flag, `a value (${describeType(spec)})`, 'nothing');
        inline = next; i++;
      }
      values[key] = convert(flag, spec, inline);
    }
    given.add(key as keyof T);
  }
  if (!help) {
    for (const [key, spec] of Object.entries(table)) {
      if (values[key] === undefined && spec.default !== undefined) values[key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
      if (values[key] === undefined && spec.required) throw new LosstopoError({ code: 'invalid_option', path: `--${kebab(key)}` }, `is required for \`losstopo ${command}\``);
    }
  }
  return { values: values as Parsed<T>, positionals, json, help, given };
}

function describeType(spec: OptSpec): string {
  switch (spec.type) {
    case 'enum': return spec.choices.join('|');
    case 'numbers': return 'comma-separated numbers';
    case 'strings': return 'comma-separated names';
    case 'int': return 'integer';
    default: return spec.type;
  }
}

/** Help text: one line per option with its type and default. */
export function helpText(command: string, summary: string, table: OptTable, usage?: string): string {
  const lines = [`losstopo ${command}${usage ? ' ' + usage : ''}`, '', summary, '', 'Options:'];
  const rows = Object.entries(table).map(([k, s]) => {
    const flag = s.type === 'boolean' ? `--${kebab(k)} / --no-${kebab(k)}` : `--${kebab(k)} <${describeType(s)}>`;
    const def = s.default !== undefined ? ` (default: ${Array.isArray(s.default) ? s.default.join(',') : String(s.default)})` : s.required ? ' (required)' : '';
    return [flag, s.description + def] as const;
  });
  rows.push(['--json', 'print one JSON document on stdout; human output goes to stderr']);
  const w = Math.min(40, Math.max(...rows.map((r) => r[0].length)));
  for (const [f, d] of rows) lines.push(`  ${f.padEnd(w)}  ${d}`);
  return lines.join('\n');
}
