/**
 * The safetensors format (what `safetensors.torch.load_file` reads): an 8-byte little-endian
 * header length, a JSON header `{name: {dtype, shape, data_offsets}, __metadata__: {string:
 * string}}` padded with spaces to 8 bytes, then the raw little-endian tensor bytes, row-major.
 */
import { readFileSync } from 'node:fs';
import { LosstopoError } from '../errors.js';
import { Tensor, type TypedArray } from '../engine/index.js';
import { writeFileAtomic } from './atomic.js';

const toSt: Record<string, string> = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };
const fromSt: Record<string, { size: number; make: (buf: ArrayBuffer, off: number, n: number) => TypedArray }> = {
  F32: { size: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  F64: { size: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  I64: { size: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  I32: { size: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  U8: { size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  BOOL: { size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
};

export interface SafetensorsFile {
  tensors: Map<string, { dtype: string; shape: number[]; data: TypedArray }>;
  metadata: Record<string, string>;
}

/** Serialises named tensors (their values at call time) and string metadata. */
export function encodeSafetensors(tensors: Iterable<[string, Tensor]>, metadata: Record<string, string> = {}): Uint8Array[] {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const dtype = toSt[t.dtype];
    if (!dtype) throw new LosstopoError({ code: 'invalid_file', path: name }, `cannot store a ${t.dtype} tensor in safetensors`);
    const d = t.data();
    const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    blobs.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return [head, Buffer.from(json), ...blobs];
}

export function writeSafetensors(path: string, tensors: Iterable<[string, Tensor]>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function parseSafetensors(buf: Uint8Array, file = '<buffer>'): SafetensorsFile {
  const bad = (why: string): never => { throw new LosstopoError({ code: 'invalid_file', file }, `not a valid safetensors file: ${why}`); };
  if (buf.length < 8) bad('shorter than its 8-byte header length');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > buf.length - 8) bad(`header length ${n} runs past the end of the file (${buf.length} bytes)`);
  let header: Record<string, unknown>;
  try { header = JSON.parse(Buffer.from(buf.subarray(8, 8 + n)).toString('utf8')) as Record<string, unknown>; } catch { return bad('header is not JSON'); }
  const dataStart = 8 + n;
  const dataLength = buf.length - dataStart;
  const tensors: SafetensorsFile['tensors'] = new Map();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = entry as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const kind = fromSt[e.dtype ?? ''];
    if (!kind || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) bad(`entry ${name} is malformed`);
    const [b, end] = e.data_offsets!;
    const count = e.shape!.reduce((a, x) => a * x, 1);
    if (end - b !== count * kind!.size || end > dataLength) bad(`entry ${name} has offsets [${b}, ${end}] that do not fit its shape or the file`);
    // A copy (Uint8Array.prototype.slice, not Buffer's view) so the typed array is aligned and owns its memory.
    const aligned = Uint8Array.prototype.slice.call(buf, dataStart + b, dataStart + end);
    tensors.set(name, { dtype: e.dtype!, shape: e.shape!, data: kind!.make(aligned.buffer, 0, count) });
  }
  return { tensors, metadata: (header.__metadata__ as Record<string, string> | undefined) ?? {} };
}

export function readSafetensors(path: string): SafetensorsFile {
  let buf: Buffer;
  try { buf = readFileSync(path); } catch (e) {
    throw new LosstopoError({ code: 'missing_file', file: path }, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseSafetensors(buf, path);
}

/** Tensors of a parsed file as engine tensors (the caller owns them). */
export function toTensors(f: SafetensorsFile): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, t] of f.tensors) out.set(name, Tensor.fromData(t.data, t.shape));
  return out;
}
