/**
 * `losstopo` entry point: dispatches to one module per command, loaded lazily so `losstopo
 * schedule` never loads the native engine. Known errors print one line and exit 2.
 */
import { isLosstopoError } from '../errors.js';
import type { Command, CommandIO } from './command.js';
import { closest } from './options.js';

const commands: Record<string, () => Promise<{ default: Command }>> = {
  bench: () => import('./commands/bench.js'),
  schedule: () => import('./commands/schedule.js'),
  import: () => import('./commands/import.js'),
  data: () => import('./commands/data.js'),
  train: () => import('./commands/train.js'),
  eval: () => import('./commands/eval.js'),
  'range-test': () => import('./commands/range-test.js'),
  compare: () => import('./commands/compare.js'),
  interpolate: () => import('./commands/interpolate.js'),
  probe: () => import('./commands/probe.js'),
  report: () => import('./commands/report.js'),
  serve: () => import('./commands/serve.js'),
  reproduce: () => import('./commands/reproduce.js'),
  demo: () => import('./commands/demo.js'),
};

export function makeIO(jsonMode: boolean): CommandIO {
  return {
    json: (doc) => process.stdout.write(JSON.stringify(doc) + '\n'),
    out: (line) => (jsonMode ? process.stderr : process.stdout).write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
  };
}

async function loadCommand(name: string): Promise<Command | undefined> {
  const load = commands[name];
  if (!load) return undefined;
  try {
    return (await load()).default;
  } catch (e) {
    // A command whose module is not there yet is reported as such, not as a stack trace.
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`commands/${name}`)) return undefined;
    throw e;
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const lines = ['losstopo <command> [options]   (every command takes --help and --json)', ''];
    for (const n of Object.keys(commands)) {
      const cmd = await loadCommand(n).catch(() => undefined);
      if (cmd) lines.push(`  ${n.padEnd(12)} ${cmd.summary}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
    return name ? 0 : 2;
  }
  const jsonMode = rest.includes('--json');
  const io = makeIO(jsonMode);
  try {
    const cmd = await loadCommand(name);
    if (!cmd) {
      const hint = closest(name, Object.keys(commands));
      io.err(`losstopo: unknown command ${JSON.stringify(name)}${hint ? `; did you mean \`${hint}\`?` : ''} (see \`losstopo --help\`)`);
      return 2;
    }
    return await cmd.run(rest, io);
  } catch (e) {
    if (isLosstopoError(e)) {
      io.err(`losstopo ${name}: ${e.format()}`);
      return 2;
    }
    io.err(`losstopo ${name}: internal error: ${(e as Error)?.stack ?? String(e)}`);
    return 1;
  }
}
