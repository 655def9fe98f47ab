import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../shared/errors.js';
import { createMemorySecretStore, type SecretStore } from '../store/secrets.js';
import { backendSecretStore, createKeySealer, KeyUnsealError, SIGNING_KEY_SEAL_ID } from './key-sealing.js';
import { KeyRing } from './keys.js';
import { OAuthStore } from './store.js';
import { createTokenVerifier, issueAccessToken } from './tokens.js';

const JWK = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'the-private-part' };
const ISSUER = 'http://127.0.0.1:3590';
const RESOURCE = `${ISSUER}/mcp`;
const T0 = 1_800_000_000_000;
const frozen = { now: () => T0 };

describe('key sealing', () => {
  it('unseals what it sealed, and nothing of it is readable sealed', async () => {
    const sealer = createKeySealer(createMemorySecretStore());
    const sealed = await sealer.seal(JWK, 'k1');
    expect(sealed).not.toContain('the-private-part');
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('the-private-part');
    await expect(sealer.unseal(sealed, 'k1')).resolves.toEqual(JWK);
  });

  it('binds a sealed key to its key id', async () => {
    const sealer = createKeySealer(createMemorySecretStore());
    const sealed = await sealer.seal(JWK, 'k1');
    await expect(sealer.unseal(sealed, 'k2')).rejects.toBeInstanceOf(KeyUnsealError);
  });

  it('cannot unseal once its sealing key is gone from the secret store', async () => {
    const secrets = createMemorySecretStore();
    const sealed = await createKeySealer(secrets).seal(JWK, 'k1');
    await secrets.delete(SIGNING_KEY_SEAL_ID);
    await expect(createKeySealer(secrets).unseal(sealed, 'k1')).rejects.toBeInstanceOf(KeyUnsealError);
    // Another store's key does not open it either.
    const other = createMemorySecretStore();
    await createKeySealer(other).seal(JWK, 'k0');
    await expect(createKeySealer(other).unseal(sealed, 'k1')).rejects.toBeInstanceOf(KeyUnsealError);
  });

  it('creates one sealing key when the first seals run at once', async () => {
    const secrets = createMemorySecretStore();
    const sealer = createKeySealer(secrets);
    const sealed = await Promise.all(['a', 'b', 'c'].map((kid) => sealer.seal(JWK, kid)));
    const fresh = createKeySealer(secrets);
    for (const [i, kid] of ['a', 'b', 'c'].entries()) await expect(fresh.unseal(sealed[i]!, kid)).resolves.toEqual(JWK);
  });

  it('hides its sealing key from the store backends get', async () => {
    const secrets = createMemorySecretStore({ 'gh.env.TOKEN': 't' });
    await createKeySealer(secrets).seal(JWK, 'k1');
    const backends = backendSecretStore(secrets);
    expect(await backends.get(SIGNING_KEY_SEAL_ID)).toBeUndefined();
    expect(await backends.ids()).toEqual(['gh.env.TOKEN']);
    expect(await backends.delete(SIGNING_KEY_SEAL_ID)).toBe(false);
    await expect(backends.set(SIGNING_KEY_SEAL_ID, 'x')).rejects.toThrow(/reserved/);
    expect(await secrets.get(SIGNING_KEY_SEAL_ID)).toBeDefined();
    expect(await backends.get('gh.env.TOKEN')).toBe('t');
  });
});

describe('the key ring with a store on disk', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-keyring-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function allText(): Promise<string> {
    const names = await readdir(dir, { recursive: true, withFileTypes: true });
    const texts = await Promise.all(
      names.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name), 'utf8')),
    );
    return texts.join('\n');
  }

  const verifierFor = (keys: KeyRing) =>
    createTokenVerifier({
      keys,
      issuers: () => [ISSUER],
      resources: () => [RESOURCE],
      clock: frozen,
      isRevoked: () => false,
    });
  const issue = (keys: KeyRing) =>
    issueAccessToken(keys, ISSUER, frozen, {
      subject: 'owner',
      clientId: 'c',
      scopes: [],
      resource: RESOURCE,
      ttlSeconds: 60,
    });

  it('writes no private key in clear, and signs with the same key after a reopen', async () => {
    const secrets = createMemorySecretStore();
    const first = await KeyRing.open(await OAuthStore.open(dir), { sealer: createKeySealer(secrets) });
    const { token } = await issue(first);
    const text = await allText();
    expect(text).toContain('"kty"'); // the public key is there…
    expect(text).not.toMatch(/"d"\s*:/); // …its private part is not
    const reopened = await KeyRing.open(await OAuthStore.open(dir), { sealer: createKeySealer(secrets) });
    expect(reopened.signingKey.kid).toBe(first.signingKey.kid);
    await expect(verifierFor(reopened)(token)).resolves.toMatchObject({ clientId: 'c' });
  });

  it('makes a new signing key when the old one cannot be unsealed, still verifying the old tokens', async () => {
    const first = await KeyRing.open(await OAuthStore.open(dir), {
      sealer: createKeySealer(createMemorySecretStore()),
    });
    const { token } = await issue(first);
    // The secrets file was moved away: its sealing key is gone.
    const reopened = await KeyRing.open(await OAuthStore.open(dir), {
      sealer: createKeySealer(createMemorySecretStore()),
    });
    expect(reopened.signingKey.kid).not.toBe(first.signingKey.kid);
    expect(reopened.jwks().keys.map((k) => k.kid)).toEqual([reopened.signingKey.kid, first.signingKey.kid]);
    await expect(verifierFor(reopened)(token)).resolves.toMatchObject({ clientId: 'c' });
    await expect(verifierFor(reopened)((await issue(reopened)).token)).resolves.toMatchObject({ clientId: 'c' });
  });

  it('refuses to start on a secret store it cannot read, rather than replace the key', async () => {
    const secrets = createMemorySecretStore();
    await KeyRing.open(await OAuthStore.open(dir), { sealer: createKeySealer(secrets) });
    const unreadable: SecretStore = {
      ...secrets,
      get: () => Promise.reject(new GatewayError('secrets_unreadable', 'secrets.enc.json: cannot be decrypted')),
    };
    await expect(
      KeyRing.open(await OAuthStore.open(dir), { sealer: createKeySealer(unreadable) }),
    ).rejects.toMatchObject({ code: 'secrets_unreadable' });
  });

  it('keeps only the active key sealed; retired keys verify and hold no private part', async () => {
    const keys = await KeyRing.open(await OAuthStore.open(dir), { sealer: createKeySealer(createMemorySecretStore()) });
    await keys.rotate();
    const store = await OAuthStore.open(dir);
    expect(store.state.keys.map((k) => [k.active, k.sealedPrivateJwk !== undefined])).toEqual([
      [true, true],
      [false, false],
    ]);
  });
});
