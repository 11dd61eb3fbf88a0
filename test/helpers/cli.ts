/** Runs the losstopo CLI as a user would, capturing stdout, stderr and the exit code. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../../bin/losstopo', import.meta.url));
export const sharedData = fileURLToPath(new URL('../../../shared/data', import.meta.url));
export const hasCifar = existsSync(`${sharedData}/cifar-10-batches-bin/data_batch_1.bin`);
export const noCifarReason = `real CIFAR-10 is not at ${sharedData} (it is in CI; a user's machine may not have it)`;
if (!hasCifar) console.log(`# skipping CIFAR tests: ${noCifarReason}`);

export function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function cliAsync(args: string[]): ChildProcess {
  return spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}
