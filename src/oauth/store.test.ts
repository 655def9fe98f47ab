import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DISK_KINDS, enospc, testDisk } from '../../test/helpers/disk.js';
import { isGatewayError } from '../shared/errors.js';
import { writeFileAtomic, type WriteFileAtomic } from '../store/atomic.js';
import { OAUTH_MANIFEST, OAuthStore, type PersonalToken } from './store.js';

const token = (id: string): PersonalToken => ({
  id,
  name: id,
  scopes: ['*'],
  createdAt: 1,
  expiresAt: 2,
  jti: `jti-${id}`,
});

/** Every file in the folder with its content. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) out[name] = await readFile(join(dir, name), 'utf8');
  return out;
}

/** The manifest's file for each collection file (`clients` → `clients.3.json`). */
async function current(dir: string): Promise<Record<string, string>> {
  return (JSON.parse(await readFile(join(dir, OAUTH_MANIFEST), 'utf8')) as { files: Record<string, string> }).files;
}

describe.each(DISK_KINDS)('OAuth store on a full disk (%s)', (kind) => {
  it('a failed update is visible neither in memory nor in the files', async () => {
    await using disk = await testDisk(kind);
    const dir = join(disk.dir, 'oauth');
    const store = await OAuthStore.open(dir, { writeFile: disk.writeFile });
    await store.update((state) => void (state.personalTokens.kept = token('kept')));
    const before = await snapshot(dir);
    await disk.fill();
    const error = await store
      .update((state) => {
        state.personalTokens.lost = token('lost');
        state.personalTokens.kept!.revokedAt = 5;
        state.revokedJtis['jti-kept'] = 2;
      })
      .catch((e: unknown) => e);
    expect(isGatewayError(error, 'disk_full')).toBe(true);
    expect((error as Error).message).toContain(dir);
    expect(Object.keys(store.state.personalTokens)).toEqual(['kept']);
    expect(store.state.personalTokens.kept!.revokedAt).toBeUndefined();
    expect(store.state.revokedJtis).toEqual({});
    expect(await snapshot(dir)).toEqual(before);
    expect(await disk.temps()).toEqual([]);
  });

  it('the next update after space returns is written, and survives reopening', async () => {
    await using disk = await testDisk(kind);
    const dir = join(disk.dir, 'oauth');
    const store = await OAuthStore.open(dir, { writeFile: disk.writeFile });
    await disk.fill();
    await expect(store.update((state) => void (state.personalTokens.a = token('a')))).rejects.toThrow();
    await disk.free();
    await store.update((state) => void (state.personalTokens.b = token('b')));
    expect(Object.keys(store.state.personalTokens)).toEqual(['b']);
    expect(Object.keys((await OAuthStore.open(dir)).state.personalTokens)).toEqual(['b']);
  });
});

describe('OAuth store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'cortex-oauth-store-')), 'oauth');
  });
  afterEach(async () => {
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('runs concurrent updates one after another, each on the state the previous one left', async () => {
    const store = OAuthStore.memory();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.update((state) => {
          state.revokedJtis[`j${i}`] = Object.keys(state.revokedJtis).length;
        }),
      ),
    );
    expect(Object.values(store.state.revokedJtis)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a change that throws leaves the state as it was', async () => {
    const store = OAuthStore.memory();
    await expect(
      store.update((state) => {
        state.revokedJtis.x = 1;
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(store.state.revokedJtis).toEqual({});
  });

  it('a change to one collection writes only that collection and the manifest', async () => {
    const store = await OAuthStore.open(dir);
    await store.update((state) => {
      state.clients.c1 = {
        clientId: 'c1',
        redirectUris: ['http://127.0.0.1/cb'],
        tokenEndpointAuthMethod: 'none',
        source: 'dcr',
        createdAt: 1,
      };
      state.personalTokens.t1 = token('t1');
    });
    const before = await current(dir);
    const stamps = async () =>
      Object.fromEntries(
        await Promise.all(
          Object.entries(await current(dir)).map(async ([file, name]) => {
            const info = await stat(join(dir, name));
            return [file, `${name} ${info.mtimeMs} ${info.ino}`];
          }),
        ),
      );
    const untouched = await stamps();
    await new Promise((resolve) => setTimeout(resolve, 20)); // a later mtime, were anything rewritten
    await store.update((state) => void (state.personalTokens.t2 = token('t2')));
    const after = await current(dir);
    expect(after['personal-tokens']).not.toBe(before['personal-tokens']);
    const now = await stamps();
    for (const file of Object.keys(untouched).filter((f) => f !== 'personal-tokens')) {
      expect(now[file], file).toBe(untouched[file]);
    }
    // The superseded generation is gone; the folder holds the manifest and one file per collection file.
    expect((await readdir(dir)).sort()).toEqual([...Object.values(after), OAUTH_MANIFEST].sort());
  });

  it('a change that changes nothing writes nothing', async () => {
    const store = await OAuthStore.open(dir);
    await store.update((state) => void (state.personalTokens.t1 = token('t1')));
    const before = await snapshot(dir);
    const writes: string[] = [];
    const counting = await OAuthStore.open(dir, {
      writeFile: async (path, ...rest) => {
        writes.push(path);
        await writeFileAtomic(path, ...rest);
      },
    });
    await counting.update((state) => void Object.keys(state.clients));
    await counting.update((state) => void (state.personalTokens.t1 = token('t1')));
    expect(writes).toEqual([]);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a change spanning collections is written whole or not at all', async () => {
    const store = await OAuthStore.open(dir);
    await store.update((state) => {
      state.consents.c1 = { clientId: 'c1', scopes: ['a'], decidedAt: 1 };
      state.personalTokens.t1 = token('t1');
    });
    const before = await snapshot(dir);
    for (const failing of ['consents', 'revocations', OAUTH_MANIFEST]) {
      // Fails the write of one file, after the others of the same change were written.
      const failOn: WriteFileAtomic = async (path, ...rest) => {
        if (path.includes(`/${failing}`)) throw enospc();
        await writeFileAtomic(path, ...rest);
      };
      const failingStore = await OAuthStore.open(dir, { writeFile: failOn });
      await expect(
        failingStore.update((state) => {
          state.personalTokens.t1!.revokedAt = 9;
          state.revokedJtis['jti-t1'] = 2;
          delete state.consents.c1;
        }),
      ).rejects.toMatchObject({ code: 'disk_full' });
      expect(await snapshot(dir), failing).toEqual(before);
      const reopened = await OAuthStore.open(dir);
      expect(reopened.state.consents.c1).toBeDefined();
      expect(reopened.state.personalTokens.t1!.revokedAt).toBeUndefined();
    }
  });

  it('removes collection files no manifest names (an update cut short) at the next open', async () => {
    const store = await OAuthStore.open(dir);
    await store.update((state) => void (state.personalTokens.t1 = token('t1')));
    await writeFile(join(dir, 'personal-tokens.999.json'), '{"personalTokens":{"x":{}}}');
    const reopened = await OAuthStore.open(dir);
    expect(Object.keys(reopened.state.personalTokens)).toEqual(['t1']);
    expect(await readdir(dir)).not.toContain('personal-tokens.999.json');
    // New generations continue above any seen, never reusing a name.
    await reopened.update((state) => void (state.personalTokens.t2 = token('t2')));
    expect(Number((await current(dir))['personal-tokens']!.split('.')[1])).toBeGreaterThan(999);
  });

  it('recovers each collection from its newest file when the manifest is damaged', async () => {
    const store = await OAuthStore.open(dir);
    await store.update((state) => void (state.personalTokens.t1 = token('t1')));
    await store.update((state) => void (state.consents.c1 = { clientId: 'c1', scopes: [], decidedAt: 1 }));
    await writeFile(join(dir, OAUTH_MANIFEST), '{"version": 2, "fi');
    const reopened = await OAuthStore.open(dir);
    expect(Object.keys(reopened.state.personalTokens)).toEqual(['t1']);
    expect(Object.keys(reopened.state.consents)).toEqual(['c1']);
    expect((await readdir(dir)).some((n) => n.startsWith(`${OAUTH_MANIFEST}.corrupt-`))).toBe(true);
    // And the recovery is itself committed: a second open reads the same.
    expect(Object.keys((await OAuthStore.open(dir)).state.consents)).toEqual(['c1']);
  });

  describe('from the single oauth.json of earlier versions', () => {
    const legacyState = {
      version: 1,
      keys: [
        {
          kid: 'k1',
          privateJwk: { kty: 'EC', crv: 'P-256', x: 'X', y: 'Y', d: 'PRIVATE-D', kid: 'k1' },
          publicJwk: { kty: 'EC', crv: 'P-256', x: 'X', y: 'Y', kid: 'k1' },
          createdAt: 1,
          active: true,
        },
      ],
      clients: {
        c1: {
          clientId: 'c1',
          clientName: 'Evil\u202Egnp.exe\nINFO forged',
          redirectUris: ['http://127.0.0.1/cb'],
          tokenEndpointAuthMethod: 'none',
          source: 'dcr',
          createdAt: 1,
        },
      },
      consents: { c1: { clientId: 'c1', scopes: ['mcp:a:read'], decidedAt: 2 } },
      refreshFamilies: {
        f1: {
          id: 'f1',
          clientId: 'c1',
          subject: 'owner',
          scopes: ['mcp:a:read'],
          resource: 'http://127.0.0.1:1/mcp',
          currentHash: 'h',
          createdAt: 2,
          lastUsedAt: 2,
          expiresAt: 10,
        },
      },
      personalTokens: { t1: token('t1') },
      revokedJtis: { j1: 5 },
      revokedClients: { c0: 3 },
    };

    it('moves it in, seals its private keys, cleans client names, and keeps a backup without private keys', async () => {
      const legacyFile = join(dir, '..', 'oauth.json');
      await writeFile(legacyFile, JSON.stringify(legacyState));
      const store = await OAuthStore.open(dir, {
        legacyFile,
        sealPrivateKey: async (jwk, kid) => `sealed(${kid}:${Object.keys(jwk).length})`,
        now: () => 1234,
      });
      expect(store.state.keys).toEqual([
        {
          kid: 'k1',
          publicJwk: legacyState.keys[0]!.publicJwk,
          createdAt: 1,
          active: true,
          sealedPrivateJwk: 'sealed(k1:6)',
        },
      ]);
      expect(store.state.clients.c1!.clientName).toBe('Evil gnp.exe INFO forged');
      expect(store.state.consents).toEqual(legacyState.consents);
      expect(store.state.refreshFamilies).toEqual(legacyState.refreshFamilies);
      expect(store.state.personalTokens).toEqual(legacyState.personalTokens);
      expect(store.state.revokedJtis).toEqual(legacyState.revokedJtis);
      expect(store.state.revokedClients).toEqual(legacyState.revokedClients);

      const parent = join(dir, '..');
      expect((await readdir(parent)).sort()).toEqual(['oauth', 'oauth.json.migrated-1234']);
      const backup = JSON.parse(await readFile(join(parent, 'oauth.json.migrated-1234'), 'utf8')) as typeof legacyState;
      expect(backup.clients).toEqual(legacyState.clients);
      expect(backup.keys[0]).not.toHaveProperty('privateJwk');
      const files = {
        ...(await snapshot(dir)),
        backup: await readFile(join(parent, 'oauth.json.migrated-1234'), 'utf8'),
      };
      for (const [name, text] of Object.entries(files)) expect(text, name).not.toContain('PRIVATE-D');
      // Opened again: the migrated state, from the new files.
      const reopened = await OAuthStore.open(dir, { legacyFile });
      expect(reopened.state.consents).toEqual(legacyState.consents);
    });

    it('keeps keys it cannot seal for verification only', async () => {
      const legacyFile = join(dir, '..', 'oauth.json');
      await writeFile(legacyFile, JSON.stringify(legacyState));
      const store = await OAuthStore.open(dir, { legacyFile });
      expect(store.state.keys).toEqual([
        { kid: 'k1', publicJwk: legacyState.keys[0]!.publicJwk, createdAt: 1, active: false },
      ]);
      expect(JSON.stringify(await snapshot(dir))).not.toContain('PRIVATE-D');
    });

    it('leaves the old file as it was when the new state cannot be written', async () => {
      const legacyFile = join(dir, '..', 'oauth.json');
      const text = JSON.stringify(legacyState);
      await writeFile(legacyFile, text);
      const full: WriteFileAtomic = async (path, ...rest) => {
        if (path.includes('/oauth/')) throw enospc();
        await writeFileAtomic(path, ...rest);
      };
      await expect(OAuthStore.open(dir, { legacyFile, writeFile: full })).rejects.toMatchObject({ code: 'disk_full' });
      expect(await readFile(legacyFile, 'utf8')).toBe(text);
      // Space again: the next start migrates.
      const store = await OAuthStore.open(dir, { legacyFile });
      expect(store.state.consents).toEqual(legacyState.consents);
      expect(await readdir(join(dir, '..'))).not.toContain('oauth.json');
    });

    it('sets a damaged one aside and starts fresh', async () => {
      const legacyFile = join(dir, '..', 'oauth.json');
      await writeFile(legacyFile, '{"keys": [');
      const store = await OAuthStore.open(dir, { legacyFile, now: () => 77 });
      expect(store.state.clients).toEqual({});
      expect(await readdir(join(dir, '..'))).toContain('oauth.json.corrupt-77');
    });

    it('removes an old file a migration had committed but not yet removed', async () => {
      const legacyFile = join(dir, '..', 'oauth.json');
      await writeFile(legacyFile, JSON.stringify(legacyState));
      await OAuthStore.open(dir, { legacyFile, now: () => 1 });
      await writeFile(legacyFile, JSON.stringify(legacyState)); // as if the removal had not happened
      const store = await OAuthStore.open(dir, { legacyFile, now: () => 2 });
      expect(await readdir(join(dir, '..'))).not.toContain('oauth.json');
      expect(store.state.consents).toEqual(legacyState.consents);
    });
  });
});
