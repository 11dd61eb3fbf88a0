/**
 * Problems found in Caffe files that do not stop reading them (unknown solver fields, a test
 * evaluation cut off by the end of the log, ...). Errors that do stop reading are LosstopoErrors;
 * both carry where the problem is, so the CLI prints `file:line: path: message`.
 */
export interface CaffeIssue {
  code: 'unknown_field' | 'ignored_field' | 'truncated_test' | 'repeated_output' | 'orphan_output' | 'multiple_solvers' | 'unparsed_solver' | 'bad_number';
  message: string;
  file?: string;
  line?: number;
  /** The field or output concerned (`solver.foo`, `test.accuracy`). */
  path?: string;
}

export function formatIssue(i: CaffeIssue): string {
  const where = [i.file ? (i.line ? `${i.file}:${i.line}` : i.file) : undefined, i.path].filter(Boolean);
  return where.length ? `${where.join(': ')}: ${i.message}` : i.message;
}
