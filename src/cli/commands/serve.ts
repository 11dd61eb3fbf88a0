/**
 * `losstopo serve [RUNS_DIR] [--port 8080] [--host 127.0.0.1] [--json]`: a local, read-only
 * dashboard over a runs folder (default ./runs): lists runs with status and key numbers, follows
 * running ones live, overlays selected runs, shows range-test and interpolation views and links to
 * reports. The URL goes to stderr; with --json, stdout carries {"url":...}. Runs until interrupted
 * (Ctrl-C / SIGTERM).
 */
import type { Command, CommandIO } from '../command.js';
import { LosstopoError } from '../../errors.js';
import { helpText, parseOptions } from '../options.js';
import { startServer } from '../../server/server.js';

const table = {
  port: { type: 'int', min: 0, default: 8080, description: 'port to listen on (0 picks a free one)' },
  host: { type: 'string', default: '127.0.0.1', description: 'address to bind; anything but loopback exposes your runs to the network' },
  pollMs: { type: 'int', min: 50, default: 500, description: 'how often followed files are checked for new lines, ms' },
} as const;

const summary = 'Serve a local, read-only dashboard of a runs folder with live curves';
const usage = '[RUNS_DIR] [--port 8080] [--host 127.0.0.1]';

/** Runs the dashboard until `signal` aborts (the CLI aborts on SIGINT/SIGTERM). */
export async function serve(argv: readonly string[], io: CommandIO, signal: AbortSignal): Promise<number> {
  const { values, positionals, help, json } = parseOptions('serve', table, argv);
  if (help) {
    io.out(helpText('serve', summary, table, usage));
    return 0;
  }
  if (positionals.length > 1) throw new LosstopoError({ code: 'invalid_option', path: positionals[1]! }, `unexpected argument; usage: losstopo serve ${usage}`);
  const root = positionals[0] ?? 'runs';
  const server = await startServer({ root, port: values.port, host: values.host, pollMs: values.pollMs });
  io.err(`losstopo dashboard: ${server.url}  (runs in ${server.root}; Ctrl-C stops it)`);
  if (!['127.0.0.1', 'localhost', '::1'].includes(values.host)) io.err(`warning: listening on ${values.host}: anyone who can reach this address can read the runs folder`);
  if (json) io.json({ url: server.url });
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.close();
  return 0;
}

const command: Command = {
  summary,
  async run(argv, io) {
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      return await serve(argv, io, ac.signal);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
export default command;
