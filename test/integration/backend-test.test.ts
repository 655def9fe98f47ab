import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BackendTestResult } from '../../src/api/contract.js';
import { createMemorySecretStore } from '../../src/store/secrets.js';
import { isAlive, nodeBackend, startGateway, TOY, type RunningGateway } from '../helpers/gateway.js';

async function test(gw: RunningGateway, name: string, entry: unknown) {
  const res = await fetch(new URL(`/api/backends/${name}/test`, gw.mcpUrl), {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(entry),
  });
  const body = (await res.json()) as { value: BackendTestResult; error: { message: string; field?: string } };
  return { status: res.status, ...body };
}

async function configFile(content: unknown) {
  const path = join(await mkdtemp(join(tmpdir(), 'cortex-test-conn-')), 'cortex.config.json');
  await writeFile(path, JSON.stringify(content, null, 2));
  return path;
}

// "Test connection" before saving: one real connection attempt, nothing saved, nothing left running.
describe('testing a backend entry before saving it', () => {
  it('connects a working server, lists its tools, saves nothing and stops it', async () => {
    const path = await configFile({ mcpServers: {} });
    await using gw = await startGateway({}, {}, { configPath: path });
    const result = await test(gw, 'toy', nodeBackend(TOY));
    expect(result.status).toBe(200);
    expect(result.value.status).toMatchObject({ state: 'ready', name: 'toy' });
    expect(result.value.tools).toContain('echo');
    expect(isAlive(result.value.status.pid!)).toBe(false);
    expect(gw.gateway.backendStatuses()).toEqual([]);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ mcpServers: {} });
  });

  it('reports a command that cannot start, with the spawn error', async () => {
    await using gw = await startGateway({});
    const result = await test(gw, 'broken', { command: 'definitely-not-a-command-cortex' });
    expect(result.value.status.state).toBe('down');
    expect(result.value.status.lastError).toMatch(/ENOENT|not found/i);
  });

  it('returns what a failing server printed on stderr', async () => {
    await using gw = await startGateway({});
    const script = "console.error('GITHUB_TOKEN is not set'); process.exit(3)";
    const result = await test(gw, 'noisy', { command: process.execPath, args: ['-e', script] });
    expect(result.value.status.state).toBe('down');
    expect(result.value.stderr.join('\n')).toContain('GITHUB_TOKEN is not set');
  });

  it('refuses an invalid entry naming the field', async () => {
    await using gw = await startGateway({});
    const result = await test(gw, 'web', { type: 'http', url: 'not a url' });
    expect(result.status).toBe(400);
    expect(result.error.field).toBe('mcpServers.web.url');
  });

  it('uses a new secret value without storing it, and resolves a kept secret from the store', async () => {
    const secrets = createMemorySecretStore({ 'toy.env.TOY_NAME': 'stored-name' });
    const saved = { ...nodeBackend(TOY), env: { TOY_NAME: '${secret:toy.env.TOY_NAME}' } };
    const path = await configFile({ mcpServers: { toy: saved } });
    await using gw = await startGateway({ toy: saved }, {}, { configPath: path, secretStore: secrets });

    const fresh = await test(gw, 'toy', { ...nodeBackend(TOY), env: { TOY_NAME: { secret: 'typed-name' } } });
    expect(fresh.value.status.server?.name).toBe('typed-name');
    expect(await secrets.get('toy.env.TOY_NAME')).toBe('stored-name');

    const kept = await test(gw, 'toy', { ...nodeBackend(TOY), env: { TOY_NAME: { secret: true } } });
    expect(kept.value.status.server?.name).toBe('stored-name');
  });
});
