/** What every CLI command module exports. Commands are thin callers of the library API. */
export interface CommandIO {
  /** Print the single JSON document of a `--json` run. */
  json(doc: unknown): void;
  /** Human output: stdout normally, stderr under `--json` so stdout stays one document. */
  out(line: string): void;
  /** Diagnostics and progress: always stderr. */
  err(line: string): void;
}

export interface Command {
  summary: string;
  /** Runs the command; returns the process exit code (0 on success). */
  run(argv: readonly string[], io: CommandIO): Promise<number>;
}
