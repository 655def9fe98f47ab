import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64url, SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { KeyRing } from './keys.js';
import { OAuthStore } from './store.js';
import { createTokenVerifier, issueAccessToken } from './tokens.js';

const ISSUER = 'http://127.0.0.1:3590';
const RESOURCE = 'http://127.0.0.1:3590/mcp';
const frozen = (ms: number) => ({ now: () => ms });
const T0 = 1_800_000_000_000;

describe('access tokens', () => {
  let keys: KeyRing;
  const revoked = new Set<string>();
  const verifierAt = (ms: number) =>
    createTokenVerifier({
      keys,
      issuers: () => [ISSUER],
      resources: () => [RESOURCE],
      clock: frozen(ms),
      isRevoked: ({ jti }) => revoked.has(jti),
    });
  const issue = (overrides: Partial<Parameters<typeof issueAccessToken>[3]> = {}) =>
    issueAccessToken(keys, ISSUER, frozen(T0), {
      subject: 'owner',
      clientId: 'client-1',
      scopes: ['mcp:toy:read'],
      resource: RESOURCE,
      ttlSeconds: 3600,
      ...overrides,
    });

  beforeAll(async () => {
    keys = await KeyRing.open(OAuthStore.memory());
  });

  it('verifies a token it issued and reads subject, client and scopes', async () => {
    const { token } = await issue();
    await expect(verifierAt(T0 + 1000)(token)).resolves.toMatchObject({
      subject: 'owner',
      clientId: 'client-1',
      scopes: ['mcp:toy:read'],
      audience: RESOURCE,
    });
  });

  it('refuses an expired token', async () => {
    const { token } = await issue({ ttlSeconds: 60 });
    await expect(verifierAt(T0 + 61_000)(token)).rejects.toMatchObject({
      code: 'invalid_token',
      description: 'Token expired',
    });
  });

  it('refuses a token for another resource', async () => {
    const { token } = await issue({ resource: 'http://127.0.0.1:9999/mcp' });
    await expect(verifierAt(T0)(token)).rejects.toMatchObject({ description: 'Token is for another resource' });
  });

  it('tolerates only a trailing slash difference in the audience', async () => {
    const { token } = await issue({ resource: RESOURCE + '/' });
    await expect(verifierAt(T0)(token)).resolves.toMatchObject({ clientId: 'client-1' });
  });

  it('refuses a token from another issuer', async () => {
    const { token } = await issueAccessToken(keys, 'http://evil.example.com', frozen(T0), {
      subject: 'owner',
      clientId: 'c',
      scopes: [],
      resource: RESOURCE,
      ttlSeconds: 60,
    });
    await expect(verifierAt(T0)(token)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('refuses alg none', async () => {
    const token = new UnsecuredJWT({ client_id: 'c', scope: 'mcp:toy:write' })
      .setIssuer(ISSUER)
      .setAudience(RESOURCE)
      .setSubject('owner')
      .setJti('x')
      .setExpirationTime(T0 / 1000 + 60)
      .encode();
    await expect(verifierAt(T0)(token)).rejects.toMatchObject({ description: 'Unexpected algorithm none' });
  });

  it('refuses HS256 signed with our public key as the secret', async () => {
    const publicJwk = keys.jwks().keys[0]!;
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const token = await new SignJWT({ client_id: 'c', scope: 'mcp:toy:write' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: publicJwk.kid })
      .setIssuer(ISSUER)
      .setAudience(RESOURCE)
      .setSubject('owner')
      .setJti('x')
      .setExpirationTime(T0 / 1000 + 60)
      .sign(secret);
    await expect(verifierAt(T0)(token)).rejects.toMatchObject({ description: 'Unexpected algorithm HS256' });
  });

  it('refuses an ID token (typ JWT) used as an access token', async () => {
    const { kid, privateKey } = keys.signingKey;
    const token = await new SignJWT({ client_id: 'c', scope: 'mcp:toy:write', nonce: 'n' })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
      .setIssuer(ISSUER)
      .setAudience(RESOURCE)
      .setSubject('owner')
      .setJti('x')
      .setIssuedAt(T0 / 1000)
      .setExpirationTime(T0 / 1000 + 60)
      .sign(privateKey);
    await expect(verifierAt(T0)(token)).rejects.toMatchObject({
      description: 'Not an access token (typ must be at+jwt)',
    });
  });

  it('refuses a token whose signature was tampered with', async () => {
    const { token } = await issue();
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p!))) as Record<string, unknown>;
    const forged = base64url.encode(JSON.stringify({ ...claims, scope: 'mcp:toy:write' }));
    await expect(verifierAt(T0)(`${h}.${forged}.${s}`)).rejects.toMatchObject({
      description: 'Invalid token signature',
    });
  });

  it('refuses a revoked token', async () => {
    const { token, jti } = await issue();
    revoked.add(jti);
    await expect(verifierAt(T0)(token)).rejects.toMatchObject({ description: 'Token revoked' });
  });

  it('still checks expiry and revocation for a token it verified before', async () => {
    let now = T0;
    const verify = createTokenVerifier({
      keys,
      issuers: () => [ISSUER],
      resources: () => [RESOURCE],
      clock: { now: () => now },
      isRevoked: ({ jti }) => revoked.has(jti),
    });
    const { token, jti } = await issue({ ttlSeconds: 60 });
    await expect(verify(token)).resolves.toMatchObject({ jti });
    now = T0 + 61_000;
    await expect(verify(token)).rejects.toMatchObject({ description: 'Token expired' });
    const second = await issue();
    now = T0;
    await expect(verify(second.token)).resolves.toMatchObject({ jti: second.jti });
    revoked.add(second.jti);
    await expect(verify(second.token)).rejects.toMatchObject({ description: 'Token revoked' });
  });

  it('keeps verifying tokens signed before a key rotation', async () => {
    const { token } = await issue();
    await keys.rotate();
    await expect(verifierAt(T0)(token)).resolves.toMatchObject({ clientId: 'client-1' });
    expect(keys.jwks().keys).toHaveLength(2);
  });

  describe('a token verified before its key was dropped at rotation', () => {
    const verifiedThenRotated = async (rotations: number) => {
      const ring = await KeyRing.open(OAuthStore.memory());
      const verify = createTokenVerifier({
        keys: ring,
        issuers: () => [ISSUER],
        resources: () => [RESOURCE],
        clock: frozen(T0),
        isRevoked: () => false,
      });
      const { token } = await issueAccessToken(ring, ISSUER, frozen(T0), {
        subject: 'owner',
        clientId: 'client-1',
        scopes: ['mcp:toy:read'],
        resource: RESOURCE,
        ttlSeconds: 3600,
      });
      await expect(verify(token)).resolves.toMatchObject({ clientId: 'client-1' });
      for (let i = 0; i < rotations; i++) await ring.rotate(T0);
      return { verify, token, ring };
    };

    it('keeps working while its key is still published', async () => {
      const { verify, token } = await verifiedThenRotated(2);
      await expect(verify(token)).resolves.toMatchObject({ clientId: 'client-1' });
    });

    it('is refused on its next use once the key is no longer published, though it was cached', async () => {
      // The ring keeps the signing key and two retired ones: the third rotation drops this key.
      const { verify, token, ring } = await verifiedThenRotated(3);
      const kid = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;
      expect(ring.jwks().keys.map((k) => k.kid)).not.toContain(kid);
      await expect(verify(token)).rejects.toMatchObject({ code: 'invalid_token', description: 'Unknown signing key' });
      // And stays refused (not put back in the cache by the failed check).
      await expect(verify(token)).rejects.toMatchObject({ description: 'Unknown signing key' });
    });
  });

  it('verifies after a restart with the persisted keys', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'cortex-keys-')), 'oauth.json');
    const first = await KeyRing.open(await OAuthStore.open(path));
    const { token } = await issueAccessToken(first, ISSUER, frozen(T0), {
      subject: 'owner',
      clientId: 'c',
      scopes: [],
      resource: RESOURCE,
      ttlSeconds: 60,
    });
    const reopened = await KeyRing.open(await OAuthStore.open(path));
    const verify = createTokenVerifier({
      keys: reopened,
      issuers: () => [ISSUER],
      resources: () => [RESOURCE],
      clock: frozen(T0),
      isRevoked: () => false,
    });
    await expect(verify(token)).resolves.toMatchObject({ clientId: 'c' });
  });
});
