import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, waitFor } from './gateway.js';

const RACER = join(ROOT, 'test/fixtures/lock-racer.ts');

export interface LockRace extends AsyncDisposable {
  /** Each contender's last line: "won", or the code of the error it gave up with. */
  results: string[];
  /** The winner's pid. */
  winner: number | undefined;
}

/**
 * Starts `count` processes (test/fixtures/lock-racer.ts) that go for the same lock at the same
 * moment, and resolves once each has won or given up. The winner holds the lock until the race is
 * disposed of; disposing waits for every contender to exit.
 */
export async function raceForLock(
  kind: 'gateway' | 'config',
  target: string,
  goFile: string,
  count = 4,
): Promise<LockRace> {
  const contenders: ChildProcess[] = [];
  const outputs: string[] = [];
  const dispose = async () => {
    for (const child of contenders) child.stdin!.end();
    await Promise.all(contenders.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  };
  try {
    for (let i = 0; i < count; i++) {
      const child = spawn(process.execPath, ['--import', 'tsx', RACER, kind, target, goFile], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      outputs.push('');
      child.stdout!.on('data', (c: Buffer) => (outputs[i] += c.toString()));
      contenders.push(child);
    }
    await waitFor(() => outputs.every((o) => o.includes('ready')), 'every contender loaded', 60_000);
    await writeFile(goFile, '');
    const results = await waitFor(() => {
      const last = outputs.map((o) => o.trim().split('\n').at(-1)!);
      return last.every((l) => l !== 'ready') ? last : undefined;
    }, 'every contender decided');
    return { results, winner: contenders[results.indexOf('won')]?.pid, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
