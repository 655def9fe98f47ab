import { beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../shared/logger.js';
import { AuthorizationServer, type Origin } from './server.js';
import { CLIENT_LIMITS } from './client-limits.js';
import { ClientMetadataFetcher } from './client-metadata.js';
import { OAuthError } from './errors.js';
import { KeyRing } from './keys.js';
import { OAuthStore, type ClientRecord } from './store.js';

const T0 = 1_800_000_000_000;
const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
const REDIRECT = 'http://127.0.0.1:5555/cb';

const local = (host: string): Origin => ({
  issuer: `http://${host}`,
  resource: `http://${host}/mcp`,
  listener: 'local',
});
const TUNNEL: Origin = { issuer: 'https://t.example', resource: 'https://t.example/mcp', listener: 'tunnel' };

/** Metadata documents served from a map, as the fenced fetcher would return them. */
class DocumentFetcher extends ClientMetadataFetcher {
  constructor(readonly names: Map<string, string> = new Map()) {
    super();
  }
  override async client(clientId: string): Promise<ClientRecord> {
    return {
      clientId,
      clientName: this.names.get(clientId) ?? 'Doc Client',
      redirectUris: [REDIRECT],
      tokenEndpointAuthMethod: 'none',
      source: 'cimd',
      createdAt: clock.ms,
    };
  }
}

const clock = { ms: T0, now: () => clock.ms };

describe('registration and stored clients', () => {
  let store: OAuthStore;
  let server: AuthorizationServer;
  let documents: DocumentFetcher;

  beforeEach(async () => {
    clock.ms = T0;
    store = OAuthStore.memory();
    documents = new DocumentFetcher();
    server = new AuthorizationServer({
      store,
      keys: await KeyRing.open(store),
      clock,
      logger: silentLogger,
      origins: () => [local('127.0.0.1:1'), local('localhost:1'), local('[::1]:1'), TUNNEL],
      supportedScopes: () => ['mcp:toy:read'],
      scopeGroups: () => [],
      clientMetadata: documents,
    });
  });

  const register = (body: Record<string, unknown> = {}, origin: Origin = local('127.0.0.1:1')) =>
    server.register({ redirect_uris: [REDIRECT], ...body }, origin);
  const authorize = (clientId: string) =>
    server.authorize(
      {
        client_id: clientId,
        redirect_uri: REDIRECT,
        response_type: 'code',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      },
      local('127.0.0.1:1'),
    );
  /** A live grant, as a code exchange leaves it. */
  const liveGrant = (clientId: string) =>
    store.update((state) => {
      state.refreshFamilies[`f-${clientId}`] = {
        id: `f-${clientId}`,
        clientId,
        subject: 'owner',
        scopes: [],
        resource: 'http://127.0.0.1:1/mcp',
        currentHash: 'h',
        createdAt: clock.ms,
        lastUsedAt: clock.ms,
        expiresAt: clock.ms + 90 * DAY,
      };
    });

  it('shares one registration budget among every Host spelling of a listener', async () => {
    const spellings = ['127.0.0.1:1', 'localhost:1', '[::1]:1'];
    for (let i = 0; i < 30; i++) await register({}, local(spellings[i % 3]!));
    for (const host of spellings) {
      await expect(register({}, local(host))).rejects.toMatchObject({ code: 'slow_down', status: 429 });
    }
    // The tunnel listener has its own budget, and the local one comes back after a minute.
    await expect(register({}, TUNNEL)).resolves.toHaveProperty('client_id');
    clock.ms += 60_001;
    await expect(register({}, local('localhost:1'))).resolves.toHaveProperty('client_id');
  });

  it('stores client names cleaned of bidi and control characters, and answers with the stored name', async () => {
    const answer = await register({ client_name: ' Claude\u202E\u2066gnp.exe\u2069\n2026 INFO owner approved ' });
    expect(answer.client_name).toBe('Claude gnp.exe 2026 INFO owner approved');
    expect(store.state.clients[answer.client_id as string]!.clientName).toBe('Claude gnp.exe 2026 INFO owner approved');
  });

  it('stores metadata-document client names cleaned as well', async () => {
    documents.names.set('https://app.example/client.json', 'Doc\u202Eevil\r\nline');
    await authorize('https://app.example/client.json');
    expect(store.state.clients['https://app.example/client.json']!.clientName).toBe('Doc evil line');
  });

  it('refuses too many or too long redirect URIs with invalid_redirect_uri', async () => {
    const many = Array.from({ length: 11 }, (_, i) => `http://127.0.0.1/cb${i}`);
    await expect(register({ redirect_uris: many })).rejects.toMatchObject({
      code: 'invalid_redirect_uri',
      description: 'redirect_uris: at most 10 are accepted, 11 were sent',
    });
    await expect(register({ redirect_uris: [`https://a.example/${'x'.repeat(2048)}`] })).rejects.toMatchObject({
      code: 'invalid_redirect_uri',
    });
    expect(store.state.clients).toEqual({});
  });

  it('removes a registration that never got a token a day later, at the next registration', async () => {
    const old = (await register()).client_id as string;
    clock.ms += DAY - 1;
    await register();
    expect(store.state.clients[old]).toBeDefined();
    clock.ms += 2;
    const fresh = (await register()).client_id as string;
    expect(Object.keys(store.state.clients)).not.toContain(old);
    expect(store.state.clients[fresh]).toBeDefined();
  });

  it('keeps a client with a live grant however long it is unused', async () => {
    const kept = (await register()).client_id as string;
    await liveGrant(kept);
    clock.ms += 60 * DAY;
    await register();
    expect(store.state.clients[kept]).toBeDefined();
  });

  it('keeps at most the cap of registrations that never got a token, dropping the oldest', async () => {
    const first = (await register()).client_id as string;
    for (let i = 1; i < CLIENT_LIMITS.maxNeverUsedDcrClients; i++) {
      clock.ms += 2_500; // under the 30 a minute of a listener
      await register();
    }
    expect(Object.keys(store.state.clients)).toHaveLength(CLIENT_LIMITS.maxNeverUsedDcrClients);
    clock.ms += 2_500;
    await register();
    expect(Object.keys(store.state.clients)).toHaveLength(CLIENT_LIMITS.maxNeverUsedDcrClients);
    expect(store.state.clients[first]).toBeUndefined();
  });

  it('keeps at most the cap of metadata-document clients; with every one in use a new one is refused', async () => {
    const id = (i: number) => `https://c${i}.example/client.json`;
    for (let i = 0; i < CLIENT_LIMITS.maxCimdClients; i++) {
      await authorize(id(i));
      await liveGrant(id(i));
      clock.ms += 1;
    }
    const refused = await authorize(id(999));
    expect(refused).toMatchObject({ kind: 'error-page', message: expect.stringMatching(/revoke one in the console/) });
    expect(store.state.clients[id(999)]).toBeUndefined();
    // One grant ends: that client makes room.
    await server.revokeClient(id(7));
    expect((await authorize(id(999))).kind).toBe('page');
    expect(store.state.clients[id(999)]).toBeDefined();
    expect(store.state.clients[id(7)]).toBeUndefined();
    expect(Object.values(store.state.clients).filter((c) => c.source === 'cimd')).toHaveLength(
      CLIENT_LIMITS.maxCimdClients,
    );
  });

  it('keeps a metadata-document client’s last use when its document changes', async () => {
    const clientId = 'https://app.example/client.json';
    await authorize(clientId);
    await store.update((state) => void (state.clients[clientId]!.lastUsedAt = T0 + 5));
    documents.names.set(clientId, 'Renamed');
    // The fetcher's answer changed: the record is replaced, its history kept.
    await authorize(clientId);
    expect(store.state.clients[clientId]).toMatchObject({ clientName: 'Renamed', lastUsedAt: T0 + 5, createdAt: T0 });
  });

  it('refuses a metadata-document client over the cap at the token endpoint too', async () => {
    await store.update((state) => {
      for (let i = 0; i < CLIENT_LIMITS.maxCimdClients; i++) {
        const clientId = `https://c${i}.example/client.json`;
        state.clients[clientId] = {
          clientId,
          redirectUris: [REDIRECT],
          tokenEndpointAuthMethod: 'none',
          source: 'cimd',
          createdAt: T0,
        };
      }
    });
    for (let i = 0; i < CLIENT_LIMITS.maxCimdClients; i++) await liveGrant(`https://c${i}.example/client.json`);
    const error = await server
      .token({ grant_type: 'refresh_token', client_id: 'https://new.example/client.json' }, undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'temporarily_unavailable', status: 503 });
  });
});
