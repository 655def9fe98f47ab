/**
 * The console API contract: types only, shared by the core (src/), the Electron preload and the
 * renderer. Every call answers `ApiResult<T>`; failures carry a stable code and a message.
 */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

export type BackendState = 'connecting' | 'ready' | 'degraded' | 'down' | 'disabled';
export type BackendKind = 'stdio' | 'http' | 'sse';

/** What the console, the tray, `whoami` and `cortex-gateway backends` show about one backend. */
export interface BackendStatus {
  name: string;
  id: string;
  kind: BackendKind;
  /** The transport actually in use; an `http` backend may have fallen back to SSE. */
  transport?: 'stdio' | 'streamable-http' | 'sse';
  state: BackendState;
  /** Epoch ms of the last state change. */
  since: number;
  lastError?: string;
  /** Round-trip of the last successful ping (or connect), in milliseconds. */
  latencyMs?: number;
  restartCount: number;
  toolCount: number;
  promptCount: number;
  resourceCount: number;
  pid?: number;
  server?: { name: string; version: string };
}

/** A registered OAuth client, with what the owner granted it. */
export interface ClientView {
  clientId: string;
  clientName?: string;
  redirectUris: string[];
  source: 'dcr' | 'cimd' | 'pat';
  createdAt: number;
  lastUsedAt?: number;
  scopes: string[];
  activeGrants: number;
}

export interface PersonalTokenView {
  id: string;
  name: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number;
  revokedAt?: number;
}

export interface CreatePersonalTokenInput {
  name: string;
  /** `*` grants everything, including backends added later. */
  scopes: string[];
  ttlSeconds: number;
}

/** The token itself is returned once, at creation, and never stored. */
export interface CreatedPersonalToken {
  id: string;
  token: string;
  expiresAt: number;
}

/** An authorization request waiting for the owner (requests through a tunnel). */
export interface PendingConsentView {
  id: string;
  clientId: string;
  clientName: string;
  redirectHost: string;
  requestedScopes: string[];
  createdAt: number;
}

export interface ConsentDecisionInput {
  decision: 'approve' | 'deny';
  /** The scopes granted, possibly fewer than requested. */
  scopes: string[];
}

/** One tool of one backend as the owner manages it, including tools the owner disabled. */
export interface ToolView {
  backend: string;
  /** The backend's own name for the tool. */
  original: string;
  /** The name clients see; absent while the tool is disabled (it is not federated). */
  name?: string;
  title?: string;
  description?: string;
  enabled: boolean;
  access: 'read' | 'write';
  /** Where `access` comes from: the owner's override, the server's `readOnlyHint`, or the write default. */
  accessSource: 'override' | 'annotation' | 'default';
  /** The scope a client needs to see and call it (`mcp:<backend>:read|write`). */
  scope: string;
}

/** A change to one tool's override; `access: null` returns to the server's own classification. */
export interface ToolOverrideInput {
  enabled?: boolean;
  access?: 'read' | 'write' | null;
}

export type TunnelState = 'stopped' | 'starting' | 'running' | 'failed';

/** The public tunnel (claude.ai connectors): its state and, while running, the URL to paste. */
export interface TunnelStatus {
  provider: string;
  state: TunnelState;
  /** Epoch ms of the last state change. */
  since: number;
  /** Public https origin while running, e.g. https://words.trycloudflare.com. */
  publicUrl?: string;
  /** The MCP URL to paste into claude.ai, while running. */
  mcpUrl?: string;
  lastError?: string;
  restartCount: number;
}

/** Routes of the HTTP form of the API (headless), all owner-only. */
export const API_ROUTES = {
  backends: 'GET /api/backends',
  backendStderr: 'GET /api/backends/:name/stderr',
  putBackend: 'PUT /api/backends/:name',
  deleteBackend: 'DELETE /api/backends/:name',
  restartBackend: 'POST /api/backends/:name/restart',
  loginLink: 'POST /api/login-links',
  catalogNotes: 'GET /api/catalog/notes',
  tools: 'GET /api/tools',
  setToolOverride: 'PUT /api/tools/:backend/:tool',
  clients: 'GET /api/clients',
  revokeClient: 'DELETE /api/clients/:id',
  tokens: 'GET /api/tokens',
  createToken: 'POST /api/tokens',
  revokeToken: 'DELETE /api/tokens/:id',
  rotateKeys: 'POST /api/keys/rotate',
  pendingConsents: 'GET /api/consents',
  decideConsent: 'POST /api/consents/:id',
  tunnel: 'GET /api/tunnel',
  startTunnel: 'POST /api/tunnel',
  stopTunnel: 'DELETE /api/tunnel',
} as const;
