import { spawn } from 'node:child_process';

/**
 * The pid of a process that was just in use and has exited (its parent, this process, has reaped
 * it): what a lock or a record left by a crashed process names.
 */
export async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}
