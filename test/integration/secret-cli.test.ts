import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKeyFileSecretStore } from '../../src/store/secrets.js';
import { writeRuntimeInfo } from '../../src/runtime-file.js';
import { CLI, connectClient, nodeBackend, ROOT, startGateway, text, waitFor } from '../helpers/gateway.js';
import type { CliRun } from '../helpers/home-cli.js';

const ENV_SERVER = join(ROOT, 'test/fixtures/env-server.mjs');
const TOKEN = 'ghp_SealMe_0123456789abcdef';

/** A data folder with a config the owner wrote by hand, token in plain text. */
async function handWritten() {
  const dataDir = await mkdtemp(join(tmpdir(), 'cortex-secret-cli-'));
  await mkdir(dataDir, { recursive: true });
  const configPath = join(dataDir, 'cortex.config.json');
  const servers = { gh: { ...nodeBackend(ENV_SERVER), env: { GITHUB_TOKEN: TOKEN, MODE: 'plain' } } };
  await writeFile(configPath, JSON.stringify({ mcpServers: servers, theme: 'kept' }, null, 2));
  return { dataDir, configPath, servers };
}

function cli(dataDir: string, args: string[], input = ''): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args, '--data-dir', dataDir], {
      env: { ...process.env, CORTEX_DATA_DIR: dataDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const saved = async (path: string) =>
  JSON.parse(await readFile(path, 'utf8')) as { theme: string; mcpServers: { gh: { env: Record<string, string> } } };

// Secrets for owners who edit the config file by hand: into the encrypted store, references in the file.
describe('cortex-gateway secret', () => {
  it('seal moves credential-looking values into the store, keeps the rest, and the backend still gets them', async () => {
    const { dataDir, configPath } = await handWritten();
    const result = await cli(dataDir, ['secret', 'seal']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('gh env.GITHUB_TOKEN');
    const after = await saved(configPath);
    expect(after.theme).toBe('kept');
    expect(after.mcpServers.gh.env).toEqual({ GITHUB_TOKEN: '${secret:gh.env.GITHUB_TOKEN}', MODE: 'plain' });
    expect(await readFile(configPath, 'utf8')).not.toContain(TOKEN);
    expect(await createKeyFileSecretStore(dataDir).get('gh.env.GITHUB_TOKEN')).toBe(TOKEN);
    expect((await cli(dataDir, ['secret', 'seal'])).stdout).toContain('nothing to seal');

    await using gw = await startGateway(
      after.mcpServers,
      {},
      { configPath, secretStore: createKeyFileSecretStore(dataDir) },
    );
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'gh ready');
    await using session = await connectClient(gw.mcpUrl);
    expect(text(await session.client.callTool({ name: 'gh__env', arguments: { name: 'GITHUB_TOKEN' } }))).toBe(TOKEN);
  });

  it('set reads the value from standard input, never from an argument', async () => {
    const { dataDir, configPath } = await handWritten();
    const result = await cli(dataDir, ['secret', 'set', 'gh', 'API_KEY'], 'typed-on-stdin\n');
    expect(result.code).toBe(0);
    expect((await saved(configPath)).mcpServers.gh.env.API_KEY).toBe('${secret:gh.env.API_KEY}');
    expect(await createKeyFileSecretStore(dataDir).get('gh.env.API_KEY')).toBe('typed-on-stdin');

    const empty = await cli(dataDir, ['secret', 'set', 'gh', 'OTHER']);
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toMatch(/pipe the value on standard input/);
    const unknown = await cli(dataDir, ['secret', 'set', 'nope', 'X'], 'v');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/No server named "nope"/);
  });

  it('set goes through the running gateway, which restarts the backend with the new value', async () => {
    const { dataDir, configPath, servers } = await handWritten();
    const secretStore = createKeyFileSecretStore(dataDir);
    await using gw = await startGateway(servers, {}, { configPath, secretStore });
    await writeRuntimeInfo(dataDir, {
      mcpUrl: gw.address.mcpUrl,
      consoleUrl: gw.address.consoleUrl,
      pid: process.pid,
      ownerToken: gw.gateway.ownerToken,
    });
    await waitFor(() => gw.gateway.backendStatuses()[0]!.state === 'ready', 'gh ready');
    const result = await cli(dataDir, ['secret', 'set', 'gh', 'GITHUB_TOKEN'], 'ghp_rotated_value');
    expect(result.stderr).toBe('');
    await using session = await connectClient(gw.mcpUrl);
    await waitFor(async () => {
      const value = await session.client
        .callTool({ name: 'gh__env', arguments: { name: 'GITHUB_TOKEN' } })
        .then(text, () => undefined);
      return value === 'ghp_rotated_value';
    }, 'backend restarted with the new value');
    expect(await readFile(configPath, 'utf8')).not.toContain('ghp_rotated_value');
  });
});
