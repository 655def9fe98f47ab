import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isOnPath,
  resolveCliCommand,
  shellWord,
  shimPath,
  SHIM_MARKER,
  type CliCommandContext,
} from './cli-command.js';

const run = promisify(execFile);
const posixOnly = it.skipIf(process.platform === 'win32');

/** A stand-in for the CLI bundle: prints its arguments, so a printed command can be run and checked. */
const FAKE_CLI = `process.stdout.write(JSON.stringify(process.argv.slice(2)));\n`;

describe('resolveCliCommand', () => {
  let root: string;
  let home: string;
  let bin: string;
  let entry: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cortex-cli-command-'));
    home = join(root, 'home');
    bin = join(root, 'bin');
    entry = join(root, 'clone', 'dist', 'cortex-gateway.mjs');
    await mkdir(bin, { recursive: true });
    await mkdir(dirname(entry), { recursive: true });
    await mkdir(home, { recursive: true });
    await writeFile(entry, FAKE_CLI);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const context = (extra: Partial<CliCommandContext> = {}): CliCommandContext => ({
    entry,
    platform: 'linux',
    env: { PATH: bin },
    home,
    ...extra,
  });

  /** Runs a printed command the way a user would: typed into sh, from an unrelated folder. */
  async function typed(command: string, args: string, env: NodeJS.ProcessEnv = {}) {
    const PATH = [dirname(process.execPath), env.PATH, '/usr/bin', '/bin'].filter(Boolean).join(':');
    const { stdout } = await run('sh', ['-c', `${command} ${args}`], { cwd: root, env: { HOME: home, ...env, PATH } });
    return JSON.parse(stdout) as string[];
  }

  posixOnly('without cortex-gateway on PATH, runs the bundle with node by its absolute path', async () => {
    const command = await resolveCliCommand(context());
    expect(command).toBe(`node ${entry}`);
    expect(await typed(command, 'token create --scope "*"')).toEqual(['token', 'create', '--scope', '*']);
  });

  posixOnly('shortens a path under the home folder to ~/ and quotes what the shell would split', async () => {
    entry = join(home, "my projects/o'clock", 'dist', 'cortex-gateway.mjs');
    await mkdir(dirname(entry), { recursive: true });
    await writeFile(entry, FAKE_CLI);
    const command = await resolveCliCommand(context());
    expect(command).toBe(`node ~/'my projects/o'\\''clock/dist/cortex-gateway.mjs'`);
    expect(await typed(command, 'login')).toEqual(['login']);
  });

  posixOnly('says cortex-gateway when the first one on PATH links to this CLI (npm link, global install)', async () => {
    await chmod(entry, 0o755);
    await symlink(entry, join(bin, 'cortex-gateway'));
    expect(await resolveCliCommand(context())).toBe('cortex-gateway');
  });

  posixOnly('never says cortex-gateway when PATH finds another program of that name first', async () => {
    const other = join(root, 'other');
    await mkdir(other);
    await writeFile(join(other, 'cortex-gateway'), '#!/bin/sh\necho someone else\n', { mode: 0o755 });
    await chmod(entry, 0o755);
    await symlink(entry, join(bin, 'cortex-gateway'));
    const command = await resolveCliCommand(context({ env: { PATH: `${other}:${bin}` } }));
    expect(command).toBe(`node ${entry}`);
  });

  posixOnly('prints the desktop launcher by its path when its folder is not on PATH, bare when it is', async () => {
    const launcher = shimPath({ platform: 'linux', env: {}, home });
    await mkdir(dirname(launcher), { recursive: true });
    await writeFile(launcher, `#!/bin/sh\n# ${SHIM_MARKER}\nexec '${process.execPath}' '${entry}' "$@"\n`, {
      mode: 0o755,
    });
    const byPath = await resolveCliCommand(context());
    expect(byPath).toBe('~/.local/bin/cortex-gateway');
    expect(await typed(byPath, 'version')).toEqual(['version']);
    const onPath = await resolveCliCommand(context({ env: { PATH: `${dirname(launcher)}:${bin}` } }));
    expect(onPath).toBe('cortex-gateway');
    expect(await typed(onPath, 'version', { PATH: dirname(launcher) })).toEqual(['version']);
  });

  posixOnly('ignores a launcher that runs another copy of the CLI', async () => {
    const launcher = shimPath({ platform: 'linux', env: {}, home });
    await mkdir(dirname(launcher), { recursive: true });
    await writeFile(launcher, `#!/bin/sh\n# ${SHIM_MARKER}\nexec node /elsewhere/cortex-gateway.mjs "$@"\n`, {
      mode: 0o755,
    });
    expect(await resolveCliCommand(context())).toBe(`node ${entry}`);
  });

  it('runs the app executable in Node mode when the CLI is not run by node', async () => {
    const command = await resolveCliCommand(context({ executable: '/opt/Cortex Gateway/cortex-gateway' }));
    expect(command).toBe(`ELECTRON_RUN_AS_NODE=1 '/opt/Cortex Gateway/cortex-gateway' ${entry}`);
    const windows = await resolveCliCommand({
      entry: 'C:\\Users\\Ana Lopez\\cortex-gateway.mjs',
      executable: 'C:\\Program Files\\Cortex\\Cortex Gateway.exe',
      platform: 'win32',
      env: {},
      home: 'C:\\Users\\Ana Lopez',
    });
    expect(windows).toBe(
      'set "ELECTRON_RUN_AS_NODE=1" && "C:\\Program Files\\Cortex\\Cortex Gateway.exe" "C:\\Users\\Ana Lopez\\cortex-gateway.mjs"',
    );
  });

  it('runs the TypeScript source through tsx (development)', async () => {
    expect(await resolveCliCommand(context({ entry: '/src/cortex/src/cli/main.ts' }))).toBe(
      'node --import tsx /src/cortex/src/cli/main.ts',
    );
  });
});

describe('shimPath', () => {
  it('is ~/.local/bin/cortex-gateway on Linux and macOS', () => {
    expect(shimPath({ platform: 'darwin', env: {}, home: '/Users/ana' })).toBe('/Users/ana/.local/bin/cortex-gateway');
  });

  it('is a .cmd under %LOCALAPPDATA% on Windows', () => {
    expect(
      shimPath({ platform: 'win32', env: { LOCALAPPDATA: 'C:\\Users\\ana\\AppData\\Local' }, home: 'C:\\Users\\ana' }),
    ).toBe('C:\\Users\\ana\\AppData\\Local\\cortex-gateway\\bin\\cortex-gateway.cmd');
  });
});

describe('isOnPath', () => {
  it('matches a PATH folder exactly, ignoring a trailing separator', () => {
    expect(
      isOnPath('/home/ana/.local/bin', { platform: 'linux', env: { PATH: '/usr/bin:/home/ana/.local/bin/' } }),
    ).toBe(true);
    expect(isOnPath('/home/ana/.local/bin', { platform: 'linux', env: { PATH: '/usr/bin:/home/ana/.local' } })).toBe(
      false,
    );
  });

  it('compares case-insensitively on Windows, where the variable may be spelled Path', () => {
    expect(
      isOnPath('C:\\Users\\Ana\\Bin', { platform: 'win32', env: { Path: 'C:\\Windows;c:\\users\\ana\\bin\\' } }),
    ).toBe(true);
  });
});

describe('shellWord', () => {
  it('leaves plain paths alone and single-quotes the rest for sh', () => {
    expect(shellWord('/usr/local/bin/node', 'linux')).toBe('/usr/local/bin/node');
    expect(shellWord('/Applications/Cortex Gateway.app', 'darwin')).toBe(`'/Applications/Cortex Gateway.app'`);
    expect(shellWord(`it's`, 'linux')).toBe(`'it'\\''s'`);
  });

  it('double-quotes a Windows path with a space or a cmd metacharacter', () => {
    expect(shellWord('C:\\Users\\ana\\x.mjs', 'win32')).toBe('C:\\Users\\ana\\x.mjs');
    expect(shellWord('C:\\Users\\Ana Lopez\\x.mjs', 'win32')).toBe('"C:\\Users\\Ana Lopez\\x.mjs"');
    expect(shellWord('C:\\R&D\\x.mjs', 'win32')).toBe('"C:\\R&D\\x.mjs"');
  });
});
