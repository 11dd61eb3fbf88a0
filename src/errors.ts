/**
 * Errors are data: a code, where the problem is (file, line, field) and what was expected versus
 * received. The CLI prints `format(err)` as one line; the server sends the object as JSON.
 */
export type ErrorCode =
  | 'invalid_option'
  | 'invalid_config'
  | 'invalid_file'
  | 'missing_file'
  | 'parse_error'
  | 'engine_error'
  | 'data_error'
  | 'run_error'
  | 'not_found';

export interface ErrorInfo {
  code: ErrorCode;
  /** File the problem is in, when there is one. */
  file?: string;
  /** 1-based line within `file`. */
  line?: number;
  /** Dotted field or option name (`solver.base_lr`, `--max-lr`). */
  path?: string;
  expected?: string;
  received?: string;
}

export class LosstopoError extends Error {
  readonly info: ErrorInfo;
  constructor(info: ErrorInfo, message: string) {
    super(message);
    this.name = 'LosstopoError';
    this.info = info;
  }
  /** One line: `file:line: path: message`. */
  format(): string {
    const where = [
      this.info.file ? (this.info.line ? `${this.info.file}:${this.info.line}` : this.info.file) : undefined,
      this.info.path,
    ].filter(Boolean);
    return where.length ? `${where.join(': ')}: ${this.message}` : this.message;
  }
  toJSON(): ErrorInfo & { message: string } {
    return { ...this.info, message: this.message };
  }
}

/** "expected X, received Y" in the one wording used everywhere. */
export function expected(path: string, what: string, received: unknown, code: ErrorCode = 'invalid_option'): LosstopoError {
  const got = typeof received === 'string' ? JSON.stringify(received) : String(received);
  return new LosstopoError({ code, path, expected: what, received: got }, `expected ${what}, received ${got}`);
}

export function isLosstopoError(e: unknown): e is LosstopoError {
  return e instanceof LosstopoError;
}
