import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../shared/logger.js';
import { createMemorySecretStore } from '../store/secrets.js';
import { OAUTH_DIR, openAuthorization, type OpenAuthorizationOptions } from './boot.js';
import { FrozenClock, LOCAL } from './testing.js';
import type { OAuthStore } from './store.js';

const base = (overrides: Partial<OpenAuthorizationOptions> = {}): OpenAuthorizationOptions => ({
  secrets: createMemorySecretStore(),
  clock: new FrozenClock(),
  logger: silentLogger,
  origins: () => [LOCAL],
  supportedScopes: () => ['mcp:toy:read'],
  scopeGroups: () => [],
  ...overrides,
});

describe('openAuthorization', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('hands the opened store, signing key made, to `opened` before it returns the server on it', async () => {
    let seen: OAuthStore | undefined;
    let keysWhenOpened = 0;
    const { store, server } = await openAuthorization(
      base({
        opened: async (opened) => {
          seen = opened;
          keysWhenOpened = opened.state.keys.length;
        },
      }),
    );
    expect(seen).toBe(store);
    expect(keysWhenOpened).toBe(1);
    expect(server.jwks().keys.map((k) => k.kid)).toEqual([store.state.keys[0]!.kid]);
  });

  it('keeps its state in the data folder with the private key sealed, and finds the same key again', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'oauth-boot-'));
    dirs.push(dataDir);
    const secrets = createMemorySecretStore();
    const first = await openAuthorization(base({ dataDir, secrets }));
    const kid = first.store.state.keys[0]!.kid;
    const files = await readdir(join(dataDir, OAUTH_DIR));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = await readFile(join(dataDir, OAUTH_DIR, file), 'utf8');
      // A clear private EC JWK carries its private scalar as "d" (RFC 7518 §6.2.2.1).
      expect(text).not.toMatch(/"d"\s*:/);
    }
    const again = await openAuthorization(base({ dataDir, secrets }));
    expect(again.store.state.keys.map((k) => k.kid)).toEqual([kid]);
    expect(again.server.jwks().keys.map((k) => k.kid)).toEqual([kid]);
  });
});
