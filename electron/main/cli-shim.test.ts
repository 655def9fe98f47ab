import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHIM_MARKER } from '../../src/cli/command-name.js';
import { silentLogger } from '../../src/shared/logger.js';
import { installCliShim, setUpCliCommand, shimText, stableCliCopy } from './cli-shim.js';

const run = promisify(execFile);
const posixOnly = it.skipIf(process.platform === 'win32');

/** Stands in for the CLI bundle: reports its arguments and what ELECTRON_RUN_AS_NODE it got. */
const FAKE_CLI = `process.stdout.write(JSON.stringify({ args: process.argv.slice(2), runAsNode: process.env.ELECTRON_RUN_AS_NODE }));\n`;

describe('the desktop app’s cortex-gateway launcher', () => {
  let root: string;
  let home: string;
  let script: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cortex-shim-'));
    // A space in the home folder: the launcher must quote what it runs.
    home = join(root, 'home of ana');
    script = join(root, 'Cortex Gateway.app', 'app.asar.unpacked', 'dist', 'cortex-gateway.mjs');
    await mkdir(dirname(script), { recursive: true });
    await writeFile(script, FAKE_CLI);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  // process.execPath stands in for the app's executable: under node, ELECTRON_RUN_AS_NODE is harmless.
  const options = (env: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin' }) => ({
    executable: process.execPath,
    script,
    platform: 'linux' as const,
    env,
    home,
  });
  const launcher = () => join(home, '.local', 'bin', 'cortex-gateway');

  posixOnly('writes an executable launcher into ~/.local/bin that runs the app’s CLI with its arguments', async () => {
    const result = await installCliShim(options());
    expect(result).toEqual({ path: launcher(), outcome: 'written', onPath: false });
    expect((await stat(launcher())).mode & 0o777).toBe(0o755);
    const { stdout } = await run(launcher(), ['token', 'create', '--scope', 'mcp:a b:read'], { cwd: root });
    expect(JSON.parse(stdout)).toEqual({ args: ['token', 'create', '--scope', 'mcp:a b:read'], runAsNode: '1' });
  });

  posixOnly('reports when the launcher’s folder is on PATH, so the bare name runs it', async () => {
    const env = { PATH: `/usr/bin:${join(home, '.local', 'bin')}` };
    expect((await installCliShim(options(env))).onPath).toBe(true);
    const { stdout } = await run('sh', ['-c', 'cortex-gateway version'], { cwd: root, env });
    expect(JSON.parse(stdout)).toEqual({ args: ['version'], runAsNode: '1' });
  });

  posixOnly('is idempotent: a second start leaves the same launcher untouched', async () => {
    await installCliShim(options());
    const first = await stat(launcher());
    expect((await installCliShim(options())).outcome).toBe('unchanged');
    expect((await stat(launcher())).ino).toBe(first.ino);
  });

  posixOnly('replaces its own launcher when the app moved', async () => {
    await installCliShim({ ...options(), executable: '/old/place/cortex-gateway' });
    expect((await installCliShim(options())).outcome).toBe('written');
    expect(await readFile(launcher(), 'utf8')).toBe(shimText(options()));
  });

  posixOnly('never overwrites a cortex-gateway it did not write', async () => {
    const foreign = '#!/bin/sh\necho "my own cortex-gateway"\n';
    await mkdir(dirname(launcher()), { recursive: true });
    await writeFile(launcher(), foreign, { mode: 0o755 });
    expect((await installCliShim(options())).outcome).toBe('foreign');
    expect(await readFile(launcher(), 'utf8')).toBe(foreign);
  });

  it('writes a Windows batch file that sets the variable only for itself and passes every argument', () => {
    const text = shimText({
      executable: 'C:\\Program Files\\Cortex Gateway\\Cortex Gateway.exe',
      script: 'C:\\Program Files\\Cortex Gateway\\resources\\app.asar.unpacked\\dist\\cortex-gateway.mjs',
      platform: 'win32',
    });
    expect(text.split('\r\n')).toEqual([
      '@echo off',
      `rem ${SHIM_MARKER}; the app rewrites it when it starts. Safe to delete.`,
      'setlocal',
      'set "ELECTRON_RUN_AS_NODE=1"',
      '"C:\\Program Files\\Cortex Gateway\\Cortex Gateway.exe" "C:\\Program Files\\Cortex Gateway\\resources\\app.asar.unpacked\\dist\\cortex-gateway.mjs" %*',
      '',
    ]);
    // A literal % in a batch file is doubled, or cmd would read a variable.
    expect(shimText({ executable: 'C:\\100%\\a.exe', script: 'C:\\b.mjs', platform: 'win32' })).toContain(
      '"C:\\100%%\\a.exe"',
    );
  });

  posixOnly('keeps a stable copy of the bundle for an AppImage, rewritten only when it changed', async () => {
    const env = { XDG_DATA_HOME: join(home, 'data') };
    const copy = await stableCliCopy(script, { env, home });
    expect(copy).toBe(join(home, 'data', 'cortex-gateway', 'cortex-gateway.mjs'));
    expect(await readFile(copy, 'utf8')).toBe(FAKE_CLI);
    const first = await stat(copy);
    await stableCliCopy(script, { env, home });
    expect((await stat(copy)).ino).toBe(first.ino);
    await writeFile(script, FAKE_CLI + '// next version\n');
    await stableCliCopy(script, { env, home });
    expect(await readFile(copy, 'utf8')).toContain('next version');
  });

  posixOnly('on start, installs the launcher (packaged) and answers the command that runs it', async () => {
    const command = await setUpCliCommand({
      packaged: true,
      bundle: script,
      executable: process.execPath,
      platform: 'linux',
      env: { PATH: '/usr/bin:/bin' },
      home,
      logger: silentLogger,
    });
    // Its folder is not on PATH here: the command names it in full, which works as typed.
    expect(command).toBe('~/.local/bin/cortex-gateway');
    const { stdout } = await run('sh', ['-c', `${command} login`], { cwd: root, env: { HOME: home } });
    expect(JSON.parse(stdout)).toEqual({ args: ['login'], runAsNode: '1' });
  });

  posixOnly('from an AppImage, the launcher runs the AppImage file on the stable copy', async () => {
    const appImage = join(root, 'Cortex Gateway.AppImage');
    await setUpCliCommand({
      packaged: true,
      bundle: script,
      executable: '/tmp/.mount_Cortex123/cortex-gateway',
      appImage,
      platform: 'linux',
      env: { PATH: '/usr/bin:/bin' },
      home,
      logger: silentLogger,
    });
    const text = await readFile(launcher(), 'utf8');
    expect(text).toContain(`'${appImage}'`);
    expect(text).toContain(join(home, '.local', 'share', 'cortex-gateway', 'cortex-gateway.mjs'));
    expect(text).not.toContain('.mount_');
  });

  posixOnly('a development run writes nothing into the user’s bin folder', async () => {
    const command = await setUpCliCommand({
      packaged: false,
      bundle: script,
      executable: process.execPath,
      platform: 'linux',
      env: { PATH: '/usr/bin:/bin' },
      home,
      logger: silentLogger,
    });
    expect(command).toBe(`node '${script}'`);
    await expect(stat(launcher())).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
