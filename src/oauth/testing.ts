import { silentLogger } from '../shared/logger.js';
import { ClientMetadataFetcher } from './client-metadata.js';
import type { ScopeGroup } from './consent-page.js';
import type { AuthorizationServerOptions, ConsentPrompter, Origin, ServerContext } from './context.js';
import { KeyRing } from './keys.js';
import { OAuthStore, type ClientRecord } from './store.js';
import { sha256 } from './wire.js';

/**
 * What the unit tests beside the endpoints, grants and checks build on: a context over a memory
 * store with a frozen clock, no sockets and no network (a metadata document comes from a map).
 * Imported by tests only.
 */

export const T0 = 1_800_000_000_000;
export const LOCAL: Origin = { issuer: 'http://127.0.0.1:1', resource: 'http://127.0.0.1:1/mcp', listener: 'local' };
export const TUNNEL: Origin = { issuer: 'https://t.example', resource: 'https://t.example/mcp', listener: 'tunnel' };
export const REDIRECT = 'http://127.0.0.1:5555/cb';
/** A PKCE verifier and its S256 challenge (RFC 7636 §4.2). */
export const VERIFIER = 'dBjftJeZ4CVP-mJ0kjfMe0DUa1dP1pVqdlRYTuumVPA';
export const CHALLENGE = sha256(VERIFIER);

/** A clock that moves only when a test moves it. */
export class FrozenClock {
  constructor(public ms = T0) {}
  now = () => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Metadata documents served from a map, as the fenced fetcher would return them. */
export class DocumentFetcher extends ClientMetadataFetcher {
  constructor(
    readonly clock: FrozenClock,
    readonly documents = new Map<string, Partial<ClientRecord>>(),
  ) {
    super();
  }
  override async client(clientId: string): Promise<ClientRecord> {
    return {
      clientId,
      clientName: 'Doc Client',
      redirectUris: [REDIRECT],
      tokenEndpointAuthMethod: 'none',
      source: 'cimd',
      createdAt: this.clock.ms,
      ...this.documents.get(clientId),
    };
  }
}

export const TOY_GROUP: ScopeGroup = {
  backend: 'toy',
  readScope: 'mcp:toy:read',
  writeScope: 'mcp:toy:write',
  readTools: 1,
  writeTools: 2,
};

/** A prompter that records what it is told. */
export function recordingPrompter(mode: 'page' | 'owner' = 'page') {
  const seen = { requested: 0, changed: 0 };
  const prompter: ConsentPrompter = {
    mode: () => mode,
    requested: () => void seen.requested++,
    changed: () => void seen.changed++,
  };
  return { prompter, seen };
}

export interface TestContext {
  ctx: ServerContext;
  clock: FrozenClock;
  store: OAuthStore;
}

export async function testContext(overrides: Partial<AuthorizationServerOptions> = {}): Promise<TestContext> {
  const clock = new FrozenClock();
  const store = OAuthStore.memory();
  const ctx: ServerContext = {
    store,
    keys: await KeyRing.open(store, { now: clock.ms }),
    clock,
    logger: silentLogger,
    origins: () => [LOCAL, TUNNEL],
    supportedScopes: () => ['mcp:toy:read', 'mcp:toy:write'],
    scopeGroups: () => [TOY_GROUP],
    accessTokenTtlSeconds: 3600,
    refreshTokenTtlSeconds: 90 * 24 * 3600,
    refreshGraceMs: 30_000,
    prompter: { mode: () => 'page' },
    cliCommand: 'cortex-gateway',
    clientMetadata: new DocumentFetcher(clock),
    ...overrides,
  };
  return { ctx, clock, store: ctx.store };
}

/** A registered public client, stored directly. */
export async function storeClient(store: OAuthStore, record: Partial<ClientRecord> = {}): Promise<ClientRecord> {
  const client: ClientRecord = {
    clientId: 'client-1',
    redirectUris: [REDIRECT],
    tokenEndpointAuthMethod: 'none',
    source: 'dcr',
    createdAt: T0,
    clientName: 'Test App',
    ...record,
  };
  await store.update((state) => {
    state.clients[client.clientId] = client;
  });
  return client;
}
