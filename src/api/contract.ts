/**
 * The console API contract: types only, shared by the core (src/), the Electron preload and the
 * renderer. Every call answers `ApiResult<T>`; failures carry a stable code, a message and the field
 * at fault. The routes are in `routes.ts`, the input schemas in `schemas.ts` (server side), the
 * operations in `service.ts`. Over 400 lines on purpose: it is the one file of views the renderer
 * imports, and it shrinks as each view moves to the module that owns it and is re-exported here.
 */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiFailure };

/**
 * A refusal: a stable `code` (GatewayErrorCode), a message for people, and the input field or JSON
 * path at fault (`gateway.port`, `mcpServers.gh.env.GH_TOKEN`), which the message does not repeat.
 */
export interface ApiFailure {
  code: string;
  message: string;
  field?: string;
}

export type {
  BackendErrorKind,
  BackendKind,
  BackendState,
  BackendStatus,
  BackendTestResult,
} from '../backends/status.js';

export type { ClientView, PendingConsentView } from '../oauth/views.js';

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

/** A change to the gateway's settings; at least one of them. `domain: null` removes the domain. */
export interface SettingsInput {
  port?: number;
  tunnel?: { provider?: 'cloudflare' | 'ngrok'; domain?: string | null; autostart?: boolean };
}

export type { ToolView } from '../federation/types.js';

/** A change to one tool's override; `access: null` returns to the server's own classification. */
export interface ToolOverrideInput {
  enabled?: boolean;
  access?: 'read' | 'write' | null;
}

export type { TunnelState, TunnelStatus } from '../tunnel/types.js';

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
  /** One connection for every client, or an instance of the server per OAuth client. */
  instances?: 'shared' | 'per-client';
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

export type { ActivityEntry } from '../mcp/types.js';

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

/** The console's sign-in header and storage key (src/shared/console-session.ts). */
export { CONSOLE_SESSION_HEADER, CONSOLE_SESSION_STORAGE_KEY } from '../shared/console-session.js';

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

export { API_ROUTES, type ApiRouteName } from './routes.js';

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
