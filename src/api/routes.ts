/**
 * The owner API's routes over HTTP: each path written once, here. `src/http/api-routes.ts` mounts
 * exactly these (its binding table is keyed by these names, so a route without a handler, or a
 * handler without a route, does not compile); the renderer and the CLI call them by path.
 * Environment-neutral: no schemas or server code here, so the preload and the renderer can read it.
 */
/** Owner-only except the sign-in (`session`, `signIn`). */
export const API_ROUTES = {
  backends: 'GET /api/backends',
  backendStderr: 'GET /api/backends/:name/stderr',
  /** The backend's config entry (`BackendEntry`), secret values shown as `{ secret: true }`. */
  backendConfig: 'GET /api/backends/:name/config',
  /** Takes a `BackendEntry`; `{ secret: "…" }` values go to the secret store, the file gets references. */
  putBackend: 'PUT /api/backends/:name',
  deleteBackend: 'DELETE /api/backends/:name',
  restartBackend: 'POST /api/backends/:name/restart',
  testBackend: 'POST /api/backends/:name/test',
  loginLink: 'POST /api/login-links',
  /** `ConsoleSessionView`; needs no sign-in (the sign-in page asks it). */
  session: 'GET /api/session',
  /** Spends a login link's token for a session secret (`ConsoleSignIn`); needs the console's exact Origin. */
  signIn: 'POST /api/session',
  /** Ends the console session `X-Cortex-Session` carries. */
  logout: 'POST /api/session/logout',
  catalogNotes: 'GET /api/catalog/notes',
  gateway: 'GET /api/gateway',
  setGateway: 'PUT /api/gateway',
  tools: 'GET /api/tools',
  activity: 'GET /api/activity',
  setToolOverride: 'PUT /api/tools/:backend/:tool',
  clients: 'GET /api/clients',
  revokeClient: 'DELETE /api/clients/:id',
  /**
   * Takes a `SetClientScopesInput`: the application's grant, scopes of configured servers only (400
   * naming the entry, e.g. `scopes[1]`); applies to its next request; 404 for an unknown client, 409
   * for one the owner never approved. Answers its `ClientView`.
   */
  setClientScopes: 'PUT /api/clients/:id/scopes',
  tokens: 'GET /api/tokens',
  createToken: 'POST /api/tokens',
  revokeToken: 'DELETE /api/tokens/:id',
  rotateKeys: 'POST /api/keys/rotate',
  pendingConsents: 'GET /api/consents',
  decideConsent: 'POST /api/consents/:id',
  /** `ScopeView[]`: every scope clients and tokens may be granted, with tool counts. */
  scopes: 'GET /api/scopes',
  settings: 'GET /api/settings',
  /** Takes a `SettingsInput`; writes `gateway.port` (applies after restart) and `gateway.tunnel` (next tunnel start). */
  saveSettings: 'PUT /api/settings',
  tunnel: 'GET /api/tunnel',
  startTunnel: 'POST /api/tunnel',
  stopTunnel: 'DELETE /api/tunnel',
  /** `ClientConnectionView[]`: MCP client apps (Claude Desktop…), installed and connected to this gateway? */
  connections: 'GET /api/connections',
  /** Takes an optional `ConnectClientInput`; writes our entry into the app's config; `ClientChangeView`. */
  connectClient: 'POST /api/connections/:client',
  /** Removes our entry from the app's config; `ClientChangeView`. */
  disconnectClient: 'DELETE /api/connections/:client',
  /** `ImportPreview`: the servers a client app has, and what importing each would do. */
  importPreview: 'GET /api/import/:client',
  /** Takes an `ImportInput`; adds the servers as backends (secrets to the store); `ImportResult`. */
  importServers: 'POST /api/import/:client',
} as const satisfies Record<string, `${ApiMethod} /api${string}`>;

export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type ApiRouteName = keyof typeof API_ROUTES;
