import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemorySecretStore } from '../store/secrets.js';
import { backupPath, createConfigEditor, type ConfigEdit } from './editor.js';

const off = (n: number) => ({ command: 'node', args: [`server-${n}.js`], enabled: false });

describe('config editor', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-editor-'));
    path = join(dir, 'cortex.config.json');
    await writeFile(path, JSON.stringify({ mcpServers: {}, globalShortcut: 'kept' }, null, 2) + '\n');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const saved = async () =>
    JSON.parse(await readFile(path, 'utf8')) as {
      mcpServers: Record<string, { env?: Record<string, string> }>;
      globalShortcut?: string;
      gateway?: Record<string, unknown>;
    };

  it('lands every one of many concurrent edits, each on the result of the one before', async () => {
    const editor = createConfigEditor({ path, secrets: createMemorySecretStore() });
    await Promise.all(
      Array.from({ length: 30 }, (_, n) =>
        editor.editServers((servers) => {
          servers[`b${n}`] = off(n);
        }),
      ),
    );
    const file = await saved();
    expect(Object.keys(file.mcpServers).sort()).toEqual(Array.from({ length: 30 }, (_, n) => `b${n}`).sort());
    expect(file.globalShortcut).toBe('kept');
  });

  it('serializes two editors of one file through the lock beside it', async () => {
    const a = createConfigEditor({ path, secrets: createMemorySecretStore() });
    const b = createConfigEditor({ path, secrets: createMemorySecretStore() });
    await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        (n % 2 ? a : b).editServers((servers) => {
          servers[`b${n}`] = off(n);
        }),
      ),
    );
    expect(Object.keys((await saved()).mcpServers)).toHaveLength(20);
    expect(await readdir(dir)).not.toContain('cortex.config.json.lock');
  });

  it('applies edits in the order they were written, one at a time', async () => {
    const applied: string[][] = [];
    let applying = 0;
    const editor = createConfigEditor({
      path,
      secrets: createMemorySecretStore(),
      apply: async (edit: ConfigEdit) => {
        expect(++applying).toBe(1);
        await new Promise((resolve) => setImmediate(resolve));
        applied.push(edit.config.backends.map((b) => b.name));
        applying--;
      },
    });
    await Promise.all(
      [0, 1, 2].map((n) =>
        editor.editServers((servers) => {
          servers[`b${n}`] = off(n);
        }),
      ),
    );
    expect(applied).toEqual([['b0'], ['b0', 'b1'], ['b0', 'b1', 'b2']]);
  });

  it('keeps five previous versions beside the file, private, the newest equal to the previous file', async () => {
    const editor = createConfigEditor({ path, secrets: createMemorySecretStore() });
    const versions = [await readFile(path, 'utf8')];
    for (let n = 0; n < 7; n++) {
      await editor.editServers((servers) => {
        servers[`b${n}`] = off(n);
      });
      versions.push(await readFile(path, 'utf8'));
    }
    const backups = (await readdir(dir)).filter((name) => name.endsWith('.bak')).sort();
    expect(backups).toEqual([1, 2, 3, 4, 5].map((n) => `cortex.config.json.${n}.bak`));
    // versions[7] is the file now; .1.bak holds versions[6], … .5.bak versions[2].
    for (let n = 1; n <= 5; n++) {
      expect(await readFile(backupPath(path, n), 'utf8')).toBe(versions[7 - n]);
      if (process.platform !== 'win32') expect((await stat(backupPath(path, n))).mode & 0o777).toBe(0o600);
    }
  });

  it('writes nothing and keeps no backup when the change leaves the file as it was', async () => {
    const editor = createConfigEditor({ path, secrets: createMemorySecretStore() });
    const edit = await editor.editServers(() => {});
    expect(edit.written).toBe(false);
    expect(await readdir(dir)).toEqual(['cortex.config.json']);
  });

  it('refuses an invalid result naming the field, leaving the file and its backups as they were', async () => {
    const editor = createConfigEditor({ path, secrets: createMemorySecretStore() });
    await editor.editServers((servers) => {
      servers.a = off(1);
    });
    const before = await readFile(path, 'utf8');
    const backup = await readFile(backupPath(path, 1), 'utf8');
    await expect(
      editor.editServers((servers) => {
        servers.web = { type: 'http', url: 'not a url' };
      }),
    ).rejects.toMatchObject({ code: 'config_invalid', field: 'mcpServers.web.url' });
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await readFile(backupPath(path, 1), 'utf8')).toBe(backup);
    expect(await readdir(dir)).not.toContain(`cortex.config.json.2.bak`);
  });

  it('stores a new secret and writes a reference; backups never hold the value', async () => {
    const secrets = createMemorySecretStore();
    const editor = createConfigEditor({ path, secrets });
    await editor.editServers((servers) => {
      servers.gh = { command: 'gh', env: { TOKEN: { secret: 'ghp_value' } } };
    });
    await editor.editServers((servers) => {
      servers.other = off(1);
    });
    expect((await saved()).mcpServers.gh!.env).toEqual({ TOKEN: '${secret:gh.env.TOKEN}' });
    expect(await secrets.get('gh.env.TOKEN')).toBe('ghp_value');
    for (const name of await readdir(dir)) expect(await readFile(join(dir, name), 'utf8')).not.toContain('ghp_value');
  });

  it('refuses to keep a secret that is gone from the store (409 conflict naming the field), writing nothing', async () => {
    const secrets = createMemorySecretStore();
    const editor = createConfigEditor({ path, secrets });
    await editor.editServers((servers) => {
      servers.gh = { command: 'gh', env: { TOKEN: { secret: 'ghp_value' } } };
    });
    await secrets.delete('gh.env.TOKEN');
    const before = await readFile(path, 'utf8');
    await expect(
      editor.editServers((servers) => {
        servers.gh = { command: 'gh', args: ['-v'], env: { TOKEN: { secret: true } } };
      }),
    ).rejects.toMatchObject({ code: 'conflict', field: 'mcpServers.gh.env.TOKEN' });
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('refuses a new reference to a secret the store does not have', async () => {
    const editor = createConfigEditor({ path, secrets: createMemorySecretStore() });
    await expect(
      editor.editServers((servers) => {
        servers.gh = { command: 'gh', env: { TOKEN: '${secret:nowhere}' } };
      }),
    ).rejects.toMatchObject({ code: 'conflict', field: 'mcpServers.gh.env.TOKEN' });
  });

  it('deletes a secret only once the written file refers to it no more', async () => {
    const secrets = createMemorySecretStore({ shared: 's' });
    const editor = createConfigEditor({ path, secrets });
    await editor.editServers((servers) => {
      servers.a = { command: 'a', env: { T: '${secret:shared}' } };
      servers.b = { command: 'b', env: { T: '${secret:shared}' } };
    });
    await editor.editServers((servers) => {
      delete servers.a;
    });
    expect(await secrets.get('shared')).toBe('s');
    await editor.editServers((servers) => {
      delete servers.b;
    });
    expect(await secrets.get('shared')).toBeUndefined();
  });

  it('puts the previous secret values back when the file cannot be written', async () => {
    const secrets = createMemorySecretStore();
    const editor = createConfigEditor({ path, secrets, backups: 1 });
    await editor.editServers((servers) => {
      servers.gh = { command: 'gh', env: { TOKEN: { secret: 'old' } } };
    });
    const before = await readFile(path, 'utf8');
    // A folder where the oldest backup goes: rotating it out fails, so the write never happens.
    await rm(backupPath(path, 1));
    await mkdir(join(backupPath(path, 1), 'blocked'), { recursive: true });
    await expect(
      editor.editServers((servers) => {
        servers.gh = { command: 'gh', env: { TOKEN: { secret: 'new' } }, timeoutMs: 5000 };
        servers.extra = { command: 'x', env: { K: { secret: 'extra' } } };
      }),
    ).rejects.toThrow();
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await secrets.get('gh.env.TOKEN')).toBe('old');
    expect(await secrets.ids()).toEqual(['gh.env.TOKEN']);
  });

  it('changes gateway settings keeping every other key, and names a bad port', async () => {
    await writeFile(path, JSON.stringify({ mcpServers: {}, gateway: { maxRestarts: 3, tunnel: { domain: 'x' } } }));
    const editor = createConfigEditor({ path, secrets: createMemorySecretStore() });
    await editor.updateGateway({ port: 4100, tunnel: { provider: 'ngrok', domain: 'a.ngrok-free.dev' } });
    expect((await saved()).gateway).toEqual({
      maxRestarts: 3,
      port: 4100,
      tunnel: { provider: 'ngrok', domain: 'a.ngrok-free.dev' },
    });
    await expect(editor.updateGateway({ port: 70000 })).rejects.toMatchObject({
      code: 'config_invalid',
      field: 'gateway.port',
    });
  });

  it('leaves a file it cannot parse untouched, saying so', async () => {
    await writeFile(path, '{ "mcpServers": ');
    const editor = createConfigEditor({ path, secrets: createMemorySecretStore() });
    await expect(editor.editServers(() => {})).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.stringContaining('not valid JSON'),
    });
    expect(await readFile(path, 'utf8')).toBe('{ "mcpServers": ');
  });
});
