import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { ROOT, waitFor } from '../helpers/gateway.js';
import { consoleSignIn } from '../helpers/console-session.js';
import { homeEnv } from '../helpers/home-cli.js';

const run = promisify(execFile);

// What a user meets after `npm ci && npm run serve` in a fresh clone: no `cortex-gateway` on PATH.
// The command the banner, the sign-in page and the console print must work as typed, from any folder.
describe.skipIf(process.platform === 'win32')('the CLI command printed by a gateway run from a clone', () => {
  let home: string;
  let clone: string;
  let env: NodeJS.ProcessEnv;
  let stop: (() => Promise<unknown>) | undefined;
  let banner = '';
  let ready: { mcpUrl: string; consoleUrl: string };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'cortex-fresh-'));
    // In the home folder and with a space in its path: the printed command must shorten and quote it.
    clone = join(home, 'my projects', 'cortex-gateway-desktop');
    await mkdir(clone, { recursive: true });
    await cp(join(ROOT, 'src'), join(clone, 'src'), { recursive: true });
    await cp(join(ROOT, 'package.json'), join(clone, 'package.json'));
    await symlink(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
    // The package's own build script, as `npm run serve` runs it first.
    await run('npm', ['run', 'build:core', '--silent'], { cwd: clone });
    // A stand-in for the built console (vite is not what this test is about): /app is served.
    await mkdir(join(clone, 'dist', 'renderer'), { recursive: true });
    await writeFile(join(clone, 'dist', 'renderer', 'index.html'), '<!doctype html><title>Cortex</title>');
    // Only node and the system on PATH: nothing named cortex-gateway.
    env = { ...homeEnv(home), PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(':') };
    const readyFile = join(home, 'ready.json');
    const child = spawn(
      process.execPath,
      ['dist/cortex-gateway.mjs', 'serve', '--port', '0', '--ready-file', readyFile],
      { cwd: clone, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    stop = () => (child.kill('SIGTERM'), exited);
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (banner += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    ready = await waitFor(
      async () => JSON.parse(await readFile(readyFile, 'utf8')) as typeof ready,
      `ready file (stderr: ${stderr})`,
    );
    await waitFor(() => banner.includes('Press Ctrl-C'), 'banner');
  }, 120_000);

  afterAll(async () => {
    await stop?.();
    await rm(home, { recursive: true, force: true });
  });

  /** The command the banner tells the user to run for a new sign-in link. */
  const printed = () => /"(.+) login" prints a new one/.exec(banner)?.[1];

  /** Types `command` into sh from a folder outside the clone, as a user in a new terminal would. */
  const typed = (command: string) => run('sh', ['-c', command], { cwd: home, env });

  it('prints node and the bundle by its path, shortened to ~ and quoted', () => {
    expect(printed()).toBe(`node ~/'my projects/cortex-gateway-desktop/dist/cortex-gateway.mjs'`);
  });

  it('the printed command prints the version from another folder', async () => {
    const { stdout } = await typed(`${printed()!} version`);
    expect(stdout.trim()).toBe(VERSION);
  });

  it('the printed command prints a sign-in link that signs the console in', async () => {
    const { stdout } = await typed(`${printed()!} login`);
    const link = stdout.trim();
    expect(link.startsWith(`${new URL(ready.mcpUrl).origin}/app/login?token=`)).toBe(true);
    const session = await consoleSignIn(link);
    const status = await fetch(new URL('/api/gateway', ready.mcpUrl), { headers: session.headers() });
    // The console prints the same command (the signed-out notice, the tokens and settings pages).
    expect(((await status.json()) as { value: { cliCommand: string } }).value.cliCommand).toBe(printed());
  });

  it('the sign-in page names the same command', async () => {
    // What the console's sign-in page asks before anyone is signed in.
    const res = await fetch(new URL('/api/session', ready.mcpUrl));
    expect(await res.json()).toEqual({ ok: true, value: { signedIn: false, cliCommand: printed() } });
  });

  it("the README's spelling works in the clone: node dist/cortex-gateway.mjs", async () => {
    const { stdout } = await run('sh', ['-c', 'node dist/cortex-gateway.mjs version'], { cwd: clone, env });
    expect(stdout.trim()).toBe(VERSION);
  });

  it('help shows the same spelling', async () => {
    const { stdout } = await typed(`${printed()!} help`);
    expect(stdout.split('\n')[0]).toBe(`Usage: ${printed()!} <command> [options]`);
  });
});
