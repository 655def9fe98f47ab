import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScopeView, SettingsView } from '../../src/api/contract.js';
import { nodeBackend, ROOT, startGateway, TOY, waitFor, type RunningGateway } from '../helpers/gateway.js';

async function withConfigFile(content: unknown) {
  const dir = await mkdtemp(join(tmpdir(), 'cortex-settings-'));
  const path = join(dir, 'cortex.config.json');
  await writeFile(path, JSON.stringify(content, null, 2));
  return { dir, path };
}

async function owner(gw: RunningGateway, method: string, path: string, body?: unknown) {
  const res = await fetch(new URL(path, gw.mcpUrl), {
    method,
    headers: { authorization: `Bearer ${gw.gateway.ownerToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.status,
    body: (await res.json()) as {
      ok: boolean;
      value?: unknown;
      error?: { code: string; message: string; field?: string };
    },
  };
}

const CONTENT = {
  mcpServers: { toy: nodeBackend(TOY) },
  gateway: { port: 0, maxRestarts: 3 },
  globalShortcut: 'keep me',
};

// The settings page's API: what runs and where its files are; the port is saved to the config file
// (validated whole, written atomically, other keys kept) and applies after a restart.
describe('settings API', () => {
  it('shows the version, the saved and listening port, the data folder, config file and log location', async () => {
    const { dir, path } = await withConfigFile(CONTENT);
    await using gw = await startGateway(CONTENT.mcpServers, {}, { configPath: path, dataDir: dir });
    const { status, body } = await owner(gw, 'GET', '/api/settings');
    expect(status).toBe(200);
    expect(body.value).toMatchObject({
      port: 0,
      listeningPort: gw.address.port,
      mcpUrl: gw.address.mcpUrl,
      dataDir: dir,
      configPath: path,
      logLocation: expect.stringMatching(/standard error/),
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    } satisfies Partial<Record<keyof SettingsView, unknown>>);
  });

  it('writes gateway.port to the file and keeps every other key; the running port stays until restart', async () => {
    const { dir, path } = await withConfigFile(CONTENT);
    await using gw = await startGateway(CONTENT.mcpServers, {}, { configPath: path, dataDir: dir });
    const { status, body } = await owner(gw, 'PUT', '/api/settings', { port: 4123 });
    expect(status).toBe(200);
    expect(body.value).toMatchObject({ port: 4123, listeningPort: gw.address.port });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      ...CONTENT,
      gateway: { ...CONTENT.gateway, port: 4123 },
    });
    expect(((await owner(gw, 'GET', '/api/settings')).body.value as SettingsView).port).toBe(4123);
  });

  it('refuses port 70000 with 400 naming gateway.port, and leaves the file untouched', async () => {
    const { dir, path } = await withConfigFile(CONTENT);
    const before = await readFile(path, 'utf8');
    await using gw = await startGateway(CONTENT.mcpServers, {}, { configPath: path, dataDir: dir });
    const { status, body } = await owner(gw, 'PUT', '/api/settings', { port: 70000 });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'invalid_argument', field: 'gateway.port' });
    expect(body.error!.message).toMatch(/^must be a whole number from 0 to 65535/);
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('refuses a port that is not a number, naming gateway.port', async () => {
    const { dir, path } = await withConfigFile(CONTENT);
    const before = await readFile(path, 'utf8');
    await using gw = await startGateway(CONTENT.mcpServers, {}, { configPath: path, dataDir: dir });
    const { status, body } = await owner(gw, 'PUT', '/api/settings', { port: '8080' });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ field: 'gateway.port' });
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('refuses settings it cannot change, naming them', async () => {
    const { dir, path } = await withConfigFile(CONTENT);
    await using gw = await startGateway(CONTENT.mcpServers, {}, { configPath: path, dataDir: dir });
    const { status, body } = await owner(gw, 'PUT', '/api/settings', { port: 4000, host: '0.0.0.0' });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ field: 'host' });
  });

  it('saves the tunnel settings and uses them the next time the tunnel starts', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'cortex-settings-ngrok-'));
    const fake = join(ROOT, 'test/fixtures/fake-ngrok.mjs');
    await writeFile(join(bin, 'ngrok'), `#!/bin/sh\nexec "${process.execPath}" "${fake}" "$@"\n`);
    await chmod(join(bin, 'ngrok'), 0o755);
    const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, NGROK_AUTHTOKEN: 't' };
    const { path } = await withConfigFile(CONTENT);
    await using gw = await startGateway(CONTENT.mcpServers, CONTENT.gateway, { configPath: path, env });
    expect(((await owner(gw, 'GET', '/api/settings')).body.value as SettingsView).tunnel).toEqual({
      provider: 'cloudflare',
      autostart: false,
    });

    const saved = await owner(gw, 'PUT', '/api/settings', {
      tunnel: { provider: 'ngrok', domain: 'cortex-settings.ngrok-free.dev', autostart: true },
    });
    expect(saved.status).toBe(200);
    expect((saved.body.value as SettingsView).tunnel).toEqual({
      provider: 'ngrok',
      domain: 'cortex-settings.ngrok-free.dev',
      autostart: true,
    });
    const file = JSON.parse(await readFile(path, 'utf8')) as {
      gateway: Record<string, unknown>;
      globalShortcut: string;
    };
    expect(file.gateway).toEqual({
      port: 0,
      maxRestarts: 3,
      tunnel: { provider: 'ngrok', domain: 'cortex-settings.ngrok-free.dev', autostart: true },
    });
    expect(file.globalShortcut).toBe('keep me');
    const status = await gw.gateway.tunnel.start();
    expect(status).toMatchObject({ provider: 'ngrok', mcpUrl: 'https://cortex-settings.ngrok-free.dev/mcp' });

    // Removing the domain is `null`; a domain without ngrok is refused, naming the field.
    const refused = await owner(gw, 'PUT', '/api/settings', { tunnel: { provider: 'cloudflare' } });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.field).toBe('gateway.tunnel.domain');
    const cleared = await owner(gw, 'PUT', '/api/settings', { tunnel: { provider: 'cloudflare', domain: null } });
    expect((cleared.body.value as SettingsView).tunnel).toEqual({ provider: 'cloudflare', autostart: true });
    // The running tunnel is not cut by the change; the next start uses cloudflare.
    expect(gw.gateway.tunnel.status()).toMatchObject({ provider: 'ngrok', state: 'running' });
    await gw.gateway.tunnel.stop();
    expect(gw.gateway.tunnel.status()).toMatchObject({ provider: 'cloudflare', state: 'stopped' });
  });

  it('answers 409 when the gateway has no config file to save to', async () => {
    await using gw = await startGateway(CONTENT.mcpServers);
    const { status, body } = await owner(gw, 'PUT', '/api/settings', { port: 4000 });
    expect(status).toBe(409);
    expect(body.error).toMatchObject({ code: 'no_config_file' });
  });

  it('requires the owner', async () => {
    await using gw = await startGateway(CONTENT.mcpServers);
    const res = await fetch(new URL('/api/settings', gw.mcpUrl), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ port: 4000 }),
    });
    expect(res.status).toBe(401);
  });
});

describe('scopes API', () => {
  it('lists read and write scopes per enabled backend with the tools each grants', async () => {
    await using gw = await startGateway({
      toy: nodeBackend(TOY),
      off: { ...nodeBackend(TOY), enabled: false },
    });
    await waitFor(() => gw.gateway.backendStatuses().find((s) => s.name === 'toy')?.state === 'ready', 'toy ready');
    const scopes = await waitFor(async () => {
      const value = (await owner(gw, 'GET', '/api/scopes')).body.value as ScopeView[];
      return value.some((s) => s.toolCount > 0) ? value : undefined;
    }, 'tool counts');
    expect(scopes).toEqual([
      { scope: 'mcp:toy:read', backend: 'toy', access: 'read', toolCount: 1 },
      { scope: 'mcp:toy:write', backend: 'toy', access: 'write', toolCount: 7 },
    ]);
  });
});
