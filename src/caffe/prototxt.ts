/**
 * A reader for protobuf text format as Caffe writes it (solver.prototxt, and the parameter blocks
 * Caffe prints in its logs): `name: value`, `name { ... }` / `name: { ... }` / `name < ... >`,
 * `name: [v, v]`, quoted strings (adjacent ones concatenate), enum identifiers, `#` comments,
 * optional `,` / `;` separators. Malformed input is a LosstopoError with file:line.
 *
 * The result keeps each field's line so later checks can point at it; `toPlain` turns it into a
 * plain object (repeated fields as arrays).
 */
import { LosstopoError } from '../errors.js';

export type PValue =
  | { kind: 'number'; value: number; raw: string }
  | { kind: 'string'; value: string }
  | { kind: 'ident'; value: string }
  | { kind: 'message'; fields: PField[] };
export interface PField { name: string; line: number; value: PValue }

interface Token { type: 'ident' | 'number' | 'string' | 'punct'; text: string; line: number; value?: string }

function fail(file: string | undefined, line: number, message: string): never {
  throw new LosstopoError({ code: 'parse_error', ...(file ? { file } : {}), line }, message);
}

const describe = (t: Token | undefined): string =>
  t === undefined ? 'the end of the input' : t.type === 'string' ? `a string ${JSON.stringify(t.value)}` : JSON.stringify(t.text);

function unescape(body: string, file: string | undefined, line: number): string {
  return body.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
    if (simple[e] === undefined) fail(file, line, `unknown escape \\${e} in a string`);
    return simple[e];
  });
}

function tokenize(text: string, file: string | undefined, firstLine: number): Token[] {
  const tokens: Token[] = [];
  let line = firstLine;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') { line++; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') { i++; continue; }
    if (c === '#') { while (i < n && text[i] !== '\n') i++; continue; }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      if (j >= n || text[j] !== c) fail(file, line, `unterminated string (a ${c} quote is not closed on this line)`);
      tokens.push({ type: 'string', text: text.slice(i, j + 1), value: unescape(text.slice(i + 1, j), file, line), line });
      i = j + 1;
      continue;
    }
    const num = /[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?)(?![A-Za-z0-9_.])/y;
    num.lastIndex = i;
    const m = num.exec(text);
    if (m) { tokens.push({ type: 'number', text: m[0], line }); i += m[0].length; continue; }
    const id = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
    id.lastIndex = i;
    const mi = id.exec(text);
    if (mi) { tokens.push({ type: 'ident', text: mi[0], line }); i += mi[0].length; continue; }
    if ('{}<>[]:,;-'.includes(c)) { tokens.push({ type: 'punct', text: c, line }); i++; continue; }
    fail(file, line, `unexpected character ${JSON.stringify(c)}`);
  }
  return tokens;
}

function parseNumber(raw: string): number {
  const t = raw.replace(/[fF]$/, '');
  if (/^[-+]?0[xX]/.test(t)) return (t.startsWith('-') ? -1 : 1) * parseInt(t.replace(/^[-+]/, ''), 16);
  return Number(t);
}

/** Parses protobuf text format. `firstLine` numbers the first line of `text` (for embedded blocks). */
export function parsePrototxt(text: string, file?: string, firstLine = 1): PField[] {
  const tokens = tokenize(text, file, firstLine);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const lastLine = (): number => tokens[pos]?.line ?? tokens[tokens.length - 1]?.line ?? firstLine;

  function scalar(field: string): PValue {
    const t = peek();
    if (t === undefined) fail(file, lastLine(), `field ${JSON.stringify(field)} has no value`);
    if (t.type === 'string') {
      let value = '';
      while (peek()?.type === 'string') value += tokens[pos++]!.value!;
      return { kind: 'string', value };
    }
    if (t.type === 'number') { pos++; return { kind: 'number', value: parseNumber(t.text), raw: t.text }; }
    if (t.type === 'ident') {
      pos++;
      const low = t.text.toLowerCase();
      if (low === 'inf' || low === 'infinity') return { kind: 'number', value: Infinity, raw: t.text };
      if (low === 'nan') return { kind: 'number', value: NaN, raw: t.text };
      return { kind: 'ident', value: t.text };
    }
    if (t.text === '-' && tokens[pos + 1]?.type === 'ident' && /^inf(inity)?$/i.test(tokens[pos + 1]!.text)) {
      pos += 2;
      return { kind: 'number', value: -Infinity, raw: '-' + tokens[pos - 1]!.text };
    }
    fail(file, t.line, `field ${JSON.stringify(field)}: expected a value, found ${describe(t)}`);
  }

  function message(close: string | undefined): PField[] {
    const fields: PField[] = [];
    for (;;) {
      const t = peek();
      if (t === undefined) {
        if (close) fail(file, lastLine(), `missing ${JSON.stringify(close)} before the end of the input`);
        return fields;
      }
      if (t.type === 'punct' && (t.text === '}' || t.text === '>')) {
        if (t.text !== close) fail(file, t.line, `unexpected ${JSON.stringify(t.text)}${close ? ` (expected ${JSON.stringify(close)})` : ' (no block is open)'}`);
        pos++;
        return fields;
      }
      if (t.type !== 'ident') fail(file, t.line, `expected a field name, found ${describe(t)}`);
      pos++;
      const name = t.text;
      let next = peek();
      let colon = false;
      if (next?.type === 'punct' && next.text === ':') { colon = true; pos++; next = peek(); }
      if (next?.type === 'punct' && (next.text === '{' || next.text === '<')) {
        pos++;
        fields.push({ name, line: t.line, value: { kind: 'message', fields: message(next.text === '{' ? '}' : '>') } });
      } else if (!colon) {
        fail(file, t.line, `expected ":" or "{" after field name ${JSON.stringify(name)}, found ${describe(next)}`);
      } else if (next?.type === 'punct' && next.text === '[') {
        pos++;
        if (peek()?.type === 'punct' && peek()!.text === ']') { pos++; }
        else {
          for (;;) {
            const item = peek();
            if (item?.type === 'punct' && (item.text === '{' || item.text === '<')) {
              pos++;
              fields.push({ name, line: item.line, value: { kind: 'message', fields: message(item.text === '{' ? '}' : '>') } });
            } else {
              fields.push({ name, line: item?.line ?? t.line, value: scalar(name) });
            }
            const sep = peek();
            if (sep?.type === 'punct' && sep.text === ',') { pos++; continue; }
            if (sep?.type === 'punct' && sep.text === ']') { pos++; break; }
            fail(file, sep?.line ?? lastLine(), `field ${JSON.stringify(name)}: expected "," or "]" in a list, found ${describe(sep)}`);
          }
        }
      } else {
        const v = scalar(name);
        fields.push({ name, line: t.line, value: v });
        const after = peek();
        // Two values on one line (`base_lr: 0.1 0.2`) are malformed, not two fields.
        if (after && after.line === t.line && after.type !== 'ident' && !(after.type === 'punct' && '}>,;'.includes(after.text))) {
          fail(file, after.line, `field ${JSON.stringify(name)}: unexpected ${describe(after)} after the value`);
        }
      }
      const sep = peek();
      if (sep?.type === 'punct' && (sep.text === ',' || sep.text === ';')) pos++;
    }
  }

  return message(undefined);
}

/** A plain value: numbers, strings, `true`/`false` as booleans, other identifiers as strings. */
export function plainValue(v: PValue, repeated: ReadonlySet<string> = new Set()): unknown {
  switch (v.kind) {
    case 'number': case 'string': return v.value;
    case 'ident': return v.value === 'true' || v.value === 'True' ? true : v.value === 'false' || v.value === 'False' ? false : v.value;
    case 'message': return toPlain(v.fields, repeated);
  }
}

/**
 * Fields as a plain object. Names in `repeated` are always arrays; any other name that occurs more
 * than once becomes an array too.
 */
export function toPlain(fields: readonly PField[], repeated: ReadonlySet<string> = new Set()): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const counts = new Map<string, number>();
  for (const f of fields) counts.set(f.name, (counts.get(f.name) ?? 0) + 1);
  for (const f of fields) {
    const v = plainValue(f.value, repeated);
    if (repeated.has(f.name) || counts.get(f.name)! > 1) ((out[f.name] ??= []) as unknown[]).push(v);
    else out[f.name] = v;
  }
  return out;
}
