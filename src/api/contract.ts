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
  /**
   * Why the backend last failed, while it is not ready: for a stdio child how it ended
   * (`process exited with code 1`, `killed by SIGKILL`), else the connection or protocol error.
   */
  lastError?: string;
  /** A stdio backend's last few stderr lines from the run that failed (secrets masked), oldest first. */
  lastStderr?: string[];
  /** Round-trip of the last successful ping, in milliseconds; absent until the first ping answers. */
  latencyMs?: number;
  restartCount: number;
  /** Tools clients can be given: the backend's tools minus those the owner turned off. */
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
  /**
   * What the owner grants it now (its consent): what it may use on its next request. Servers added
   * since are not in it: they stay off for the application until the owner turns them on.
   */
  scopes: string[];
  activeGrants: number;
}

/** `PUT /api/clients/:id/scopes`: the application's whole grant, e.g. `["mcp:files:read"]` (`[]`: built-in tools only). */
export interface SetClientScopesInput {
  scopes: string[];
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

/**
 * An authorization request waiting for the owner's approval, with what tells the owner whose it is:
 * the code its browser shows, and where it came from. Every field the requester could choose
 * (names, user agent) is shown as text, never trusted.
 */
export interface PendingConsentView {
  id: string;
  /**
   * The short code the requesting browser shows (device-flow style, e.g. `WDJB-MJHT`): the owner
   * approves the request whose code is the one on their own screen, not a look-alike.
   */
  userCode: string;
  clientId: string;
  clientName: string;
  /** `dcr`: registered through `/register`; `cimd`: known by its metadata document at `clientDomain`. */
  clientSource: 'dcr' | 'cimd';
  clientDomain?: string;
  /** When the client registered, or its metadata document was first fetched (epoch ms). */
  clientRegisteredAt?: number;
  redirectHost: string;
  requestedScopes: string[];
  /** What approving grants unless the owner chooses otherwise: read access at most. */
  suggestedScopes: string[];
  /** The owner approved this client before; approving keeps that grant (`suggestedScopes`). */
  returning?: true;
  /** The listener the request came in on: this machine's, or the public tunnel's. */
  listener: 'local' | 'tunnel';
  /** The origin (issuer) the request used, e.g. `http://127.0.0.1:3590` or the tunnel's URL. */
  origin: string;
  /** The requesting browser's address (through the tunnel: as its provider reports it). */
  remoteAddress?: string;
  userAgent?: string;
  createdAt: number;
}

export interface ConsentDecisionInput {
  decision: 'approve' | 'deny';
  /**
   * The scopes granted, possibly fewer or more than requested. Omitted: the request's
   * `suggestedScopes` (read access at most).
   */
  scopes?: string[];
}

/** One scope a client or token may be granted, as the console offers it (from the configuration). */
export interface ScopeView {
  /** `mcp:<backend>:read` or `mcp:<backend>:write`. */
  scope: string;
  /** The backend's name as configured. */
  backend: string;
  access: 'read' | 'write';
  /** Tools this scope grants right now: read-only ones for read, all of the backend's for write. */
  toolCount: number;
}

/** The gateway's settings page: what is running, where its files are, and the saved port. */
export interface SettingsView {
  version: string;
  /** `gateway.port` as saved in the config file; it applies after a restart. */
  port: number;
  /** The port the running gateway listens on (may differ: a fallback port, `--port`, or a save not yet applied). */
  listeningPort?: number;
  mcpUrl?: string;
  /** Absent when the gateway keeps no files (embedded in tests). */
  dataDir?: string;
  /** Absent when the configuration was passed in code; then nothing can be saved. */
  configPath?: string;
  /** Where log lines go: a folder in the desktop app, standard error headless. */
  logLocation: string;
  /** `gateway.tunnel` as saved: used the next time the tunnel starts. */
  tunnel: TunnelSettingsView;
}

export interface TunnelSettingsView {
  provider: 'cloudflare' | 'ngrok';
  /** ngrok only: the fixed domain the tunnel comes up on. */
  domain?: string;
  autostart: boolean;
}

/** A change to the settings; only the port for now. */
/** A change to the gateway's settings; at least one of them. `domain: null` removes the domain. */
export interface SettingsInput {
  port?: number;
  tunnel?: { provider?: 'cloudflare' | 'ngrok'; domain?: string | null; autostart?: boolean };
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

/**
 * One env or header value of a backend. Sent: a plain string, `{ secret: "value" }` to keep it in the
 * secret store (encrypted, never shown again), or `{ secret: true }` to keep the saved one.
 * Received: a plain string, or `{ secret: true }` in place of a secret.
 */
export type SecretValue = string | { secret: string | true };

/** A backend's entry in the config file's `mcpServers`, as the owner API sends and takes it. */
export interface BackendEntry {
  command?: string;
  args?: string[];
  env?: Record<string, SecretValue>;
  cwd?: string;
  type?: 'stdio' | 'http' | 'streamable-http' | 'sse';
  url?: string;
  headers?: Record<string, SecretValue>;
  enabled?: boolean;
  timeoutMs?: number;
  startupTimeoutMs?: number;
  /** Stdio only: the largest message read from the server, in bytes. */
  maxMessageBytes?: number;
  tools?: Record<string, { enabled?: boolean; access?: 'read' | 'write' }>;
}

// Owned by src/clients (the adapter table and its views); re-exported for the console and the CLI.
export type { ClientAppId } from '../clients/ids.js';
export type {
  ClientChangeView,
  ClientConnectionView,
  ImportCandidateView,
  ImportPreview,
  ImportResult,
} from '../clients/views.js';

export interface ConnectClientInput {
  /** Defaults to this gateway's MCP URL. */
  url?: string;
}

/** One tool call as the Activity page shows it. */
export interface ActivityEntry {
  /** Increasing; `GET /api/activity?after=<id>` returns only newer entries. */
  id: number;
  /** Epoch ms when the call arrived. */
  at: number;
  clientId: string;
  clientName?: string;
  /** The federated tool name the client called. */
  tool: string;
  /** The backend that served it (absent for builtins and refused unknown tools). */
  backend?: string;
  durationMs: number;
  /** `error`: the backend failed or answered `isError`; `refused`: outside the grant or unknown. */
  outcome: 'ok' | 'error' | 'refused';
  error?: string;
  /** Argument names only, unless the owner turned on `gateway.activityArguments` (values then redacted). */
  argumentKeys: string[];
  arguments?: unknown;
}

/** The outcome of connecting a backend configuration once, before saving it. */
export interface BackendTestResult {
  /** `ready`, or `down`/`degraded` with `lastError`; `connecting` if it did not settle in time. */
  status: BackendStatus;
  /** The names of the tools it offers, as the server names them. */
  tools: string[];
  /** What a stdio server printed on stderr (the usual place for its reason to fail). */
  stderr: string[];
}

/** The gateway itself: whether it serves clients, and where. */
export interface GatewayStatusView {
  /** Paused by the owner: every MCP request is answered 503 until resumed; backends keep running. */
  paused: boolean;
  mcpUrl: string;
  version: string;
  /**
   * How the owner runs the CLI on this machine, e.g. `cortex-gateway`, `~/.local/bin/cortex-gateway`
   * or `node ~/src/cortex-gateway-desktop/dist/cortex-gateway.mjs`: what the console prints before
   * `login`, `token create`…
   */
  cliCommand: string;
}

/**
 * The console's sign-in. The session secret lives in the browser's `localStorage` under
 * `CONSOLE_SESSION_STORAGE_KEY`, which is per exact origin (scheme, host and port), and travels only
 * in the `CONSOLE_SESSION_HEADER` request header: never in a cookie (cookies ignore the port, so any
 * other local web server would receive it), a URL or a log line.
 */
export const CONSOLE_SESSION_HEADER = 'X-Cortex-Session';
export const CONSOLE_SESSION_STORAGE_KEY = 'cortex.console.session';

/** `GET /api/session` (no sign-in needed): whether this request's session is live, and what the sign-in page prints. */
export interface ConsoleSessionView {
  signedIn: boolean;
  /** As in `GatewayStatusView`: the sign-in page tells the owner to run `<cliCommand> login`. */
  cliCommand: string;
}

/** `POST /api/session`: takes `{ token }` (the one-time login link's), from the console's own origin. */
export interface ConsoleSignIn {
  /** Kept by the console in localStorage and sent as `X-Cortex-Session`; the gateway keeps only its hash. */
  secret: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** `POST /api/import/:client`. */
export interface ImportInput {
  /** Names (in the client's config) to import; all importable ones when absent. */
  servers?: string[];
  /** Also remove them from the client and add the single gateway entry (the client's file is backed up first). */
  replace?: boolean;
}

/** Routes of the HTTP form of the API (headless), owner-only except the sign-in (`session`, `signIn`). */
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
} as const;

/**
 * Preferences of the desktop app itself (a JSON file in its data folder); the gateway's own
 * settings (port…) stay in the config file, edited through `PUT /api/settings`.
 */
export interface DesktopSettings {
  /** Start Cortex Gateway, in the tray, when the user logs in. */
  startAtLogin: boolean;
  /** Open the console window when the app is started by hand (never when started at login). */
  openConsoleAtLaunch: boolean;
  /** Lowest level written to the log file. */
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** Where the desktop app keeps its files, for the settings page. */
export interface PlatformInfo {
  platform: 'darwin' | 'win32' | 'linux' | string;
  version: string;
  dataDir: string;
  logsDir: string;
}

/**
 * What the preload exposes to the console window as `window.cortex`: desktop-only facilities. The
 * console API itself stays HTTP. Arguments are validated in main; failures come back as results.
 */
export interface DesktopBridge {
  readonly version: string;
  platform(): Promise<ApiResult<PlatformInfo>>;
  getSettings(): Promise<ApiResult<DesktopSettings>>;
  /** Changes some settings; start-at-login applies at once. Returns all of them. */
  setSettings(change: Partial<DesktopSettings>): Promise<ApiResult<DesktopSettings>>;
  /** Opens the log folder in the file manager. */
  openLogs(): Promise<ApiResult<null>>;
}

/** IPC channel per bridge call (ipcRenderer.invoke ↔ ipcMain.handle). */
export const IPC_CHANNELS = {
  platform: 'cortex:platform',
  getSettings: 'cortex:settings:get',
  setSettings: 'cortex:settings:set',
  openLogs: 'cortex:logs:open',
} as const satisfies Record<Exclude<keyof DesktopBridge, 'version'>, string>;
