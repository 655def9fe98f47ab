import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claudeDesktop } from './adapters/claude-desktop.js';
import { findNpx, guiPathFor, requireNodeRuntime } from './npx.js';
import type { ClientEnvironment } from './types.js';

// Fake node/npx are shell scripts: POSIX only.
describe.skipIf(process.platform === 'win32')('finding npx and Node for Claude Desktop', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-npx-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fakeNode(folder: string, version: string) {
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'node'), `#!/bin/sh\necho ${version}\n`);
    await writeFile(join(folder, 'npx'), '#!/bin/sh\nexit 0\n');
    await chmod(join(folder, 'node'), 0o755);
    await chmod(join(folder, 'npx'), 0o755);
  }

  const environment = (overrides: Partial<ClientEnvironment>): ClientEnvironment => ({
    platform: 'linux',
    homedir: dir,
    env: { PATH: '' },
    ...overrides,
  });

  it('prefers the npx beside the running node', async () => {
    await fakeNode(join(dir, 'nvm'), 'v22.1.0');
    expect(findNpx(environment({ execPath: join(dir, 'nvm', 'node') }))?.npx).toBe(join(dir, 'nvm', 'npx'));
  });

  it('falls back to PATH when running under something that is not node (Electron)', async () => {
    await fakeNode(join(dir, 'bin'), 'v20.0.0');
    const found = findNpx(
      environment({ execPath: '/Applications/Cortex.app/Cortex', env: { PATH: join(dir, 'bin') } }),
    );
    expect(found?.npx).toBe(join(dir, 'bin', 'npx'));
  });

  it('accepts Node 18 or newer and reports its version', async () => {
    await fakeNode(join(dir, 'ok'), 'v18.20.4');
    const runtime = await requireNodeRuntime(environment({ execPath: join(dir, 'ok', 'node') }));
    expect(runtime).toMatchObject({ npx: join(dir, 'ok', 'npx'), version: '18.20.4' });
  });

  it('gives the PATH a GUI app needs when npx lives outside its default folders (its shebang needs node there)', async () => {
    await fakeNode(join(dir, 'nvm'), 'v22.1.0');
    const runtime = await requireNodeRuntime(environment({ platform: 'darwin', execPath: join(dir, 'nvm', 'node') }));
    expect(runtime.path).toBe(`${join(dir, 'nvm')}:/usr/bin:/bin:/usr/sbin:/sbin`);
    expect(runtime.warnings).toEqual([]);
  });

  it('needs no PATH for npx in the system folders, nor on Windows (npx.cmd runs the node.exe beside it)', () => {
    expect(guiPathFor('/usr/bin/npx', environment({ platform: 'darwin' }))).toBeUndefined();
    expect(guiPathFor('/usr/local/bin/npx', environment({ platform: 'linux' }))).toBeUndefined();
    expect(guiPathFor('C:\\nvm\\npx.cmd', environment({ platform: 'win32' }))).toBeUndefined();
  });

  it('refuses Node older than 18, saying so plainly', async () => {
    await fakeNode(join(dir, 'old'), 'v16.20.2');
    await expect(requireNodeRuntime(environment({ execPath: join(dir, 'old', 'node') }))).rejects.toThrow(
      /Node\.js 16\.20\.2 .*needs Node\.js 18 or newer/,
    );
  });

  it('refuses without any npx, telling the user to install Node.js', async () => {
    const windows: ClientEnvironment = { platform: 'win32', homedir: 'C:\\Users\\ada', env: { PATH: '' } };
    await expect(requireNodeRuntime(windows)).rejects.toThrow(/no npx was found.*Install Node\.js 18 or newer/);
  });

  it('Claude Desktop entry: absolute npx, -y mcp-remote <url> named Claude Desktop, with the PATH npx needs', async () => {
    await fakeNode(join(dir, 'ok'), 'v20.11.0');
    const entry = await claudeDesktop.entry(
      'http://127.0.0.1:3590/mcp',
      environment({ execPath: join(dir, 'ok', 'node') }),
    );
    expect(entry.value).toEqual({
      command: join(dir, 'ok', 'npx'),
      args: [
        '-y',
        'mcp-remote',
        'http://127.0.0.1:3590/mcp',
        '--static-oauth-client-metadata',
        '{"client_name":"Claude Desktop","scope":"mcp"}',
      ],
      env: { PATH: `${join(dir, 'ok')}:/usr/local/bin:/usr/bin:/bin` },
    });
  });
});
