// The renderer's only way to the core: the console API over HTTP on the same origin, signed in with
// the session secret this origin keeps in localStorage and sends as X-Cortex-Session (no cookie:
// cookies reach every port of 127.0.0.1). Shapes come from the contract, as types only.
import type {
  CONSOLE_SESSION_HEADER,
  CONSOLE_SESSION_STORAGE_KEY,
  ActivityEntry,
  ApiResult,
  DesktopBridge,
  ImportInput,
  ImportPreview,
  ImportResult,
  BackendEntry,
  BackendTestResult,
  ClientChangeView,
  ClientConnectionView,
  GatewayStatusView,
  TunnelStatus,
  BackendStatus,
  ClientView,
  ConsoleSessionView,
  ConsoleSignIn,
  CreatePersonalTokenInput,
  CreatedPersonalToken,
  PendingConsentView,
  PersonalTokenView,
  ScopeView,
  SetClientScopesInput,
  SettingsInput,
  SettingsView,
  ToolOverrideInput,
  ToolView,
} from '../../src/api/contract.js';

export class SignedOutError extends Error {}

// The contract's names, spelled here (the contract reaches the renderer as types only) and checked
// against it by the compiler.
const SESSION_HEADER: typeof CONSOLE_SESSION_HEADER = 'X-Cortex-Session';
const STORAGE_KEY: typeof CONSOLE_SESSION_STORAGE_KEY = 'cortex.console.session';

/** Dispatched on `window` when the API answers 401: the session expired or ended on the server. */
export const SIGNED_OUT_EVENT = 'cortex:signed-out';

/**
 * The session secret in this origin's localStorage. Storage can be unavailable (disabled, a
 * sandboxed frame); then there is no session, and the sign-in page shows.
 */
const stored = {
  get(): string | undefined {
    try {
      return window.localStorage.getItem(STORAGE_KEY) ?? undefined;
    } catch {
      return undefined;
    }
  },
  set(secret: string): void {
    window.localStorage.setItem(STORAGE_KEY, secret);
  },
  /** Forgets the secret, unless another tab has stored a newer one meanwhile. */
  clear(secret: string | undefined): void {
    try {
      if (stored.get() === secret) window.localStorage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing stored, nothing to forget.
    }
  },
};

const sessionHeader = (secret: string | undefined): Record<string, string> =>
  secret ? { [SESSION_HEADER]: secret } : {};

/** The error body of a refusal: a stable code, a message for people, and the JSON path at fault. */
interface ErrorBody {
  code: string;
  message: string;
  field?: string;
}

/**
 * A refusal from the API, kept structured: `code` (stable, e.g. `invalid_argument`, `disk_full`) to
 * decide on, `field` (the JSON path at fault, e.g. `gateway.port`) to show the message by its
 * input. Pages never take either out of the message text.
 */
export class ApiError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  constructor({ code, message, field }: ErrorBody) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.field = field;
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const secret = stored.get();
  const res = await fetch(path, {
    method,
    // The header is the credential; the gateway reads no cookie. Same-origin (fetch's default) only
    // so that sign-out's answer can expire the cookie older versions set.
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      ...sessionHeader(secret),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 401) {
    // The secret is dead (expired, signed out elsewhere, a gateway without a data folder restarted):
    // forget it, so a reload shows the sign-in page. The whole console depends on the session: tell
    // the shell once, whichever page asked.
    stored.clear(secret);
    window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
    throw new SignedOutError('Sign-in required');
  }
  // Refusals (a full disk answers 507) carry a message naming the file or field at fault; a body
  // that is not an ApiResult (an unexpected 500) still becomes a message rather than a blank error.
  const result = (await res.json().catch(() => undefined)) as
    (ApiResult<T> & { error?: Partial<ErrorBody> }) | undefined;
  if (result?.ok === true) return result.value;
  if (result?.ok === false && typeof result.error?.message === 'string') {
    const { code, message, field } = result.error;
    throw new ApiError({ code: code ?? 'server_error', message, ...(typeof field === 'string' ? { field } : {}) });
  }
  throw new ApiError({
    code: 'server_error',
    message: `The gateway answered HTTP ${res.status}${res.status >= 500 ? ' (details are in its log)' : ''}`,
  });
}

/** The sign-in link's one-time token, if this page was opened with one (`/app/login?token=…`). */
function linkToken(): string | undefined {
  const url = new URL(window.location.href);
  return url.pathname === '/app/login' ? (url.searchParams.get('token') ?? undefined) : undefined;
}

/** How opening the console went: signed in (now or before), no session, or a link that did not work. */
export type SignInState = { state: 'signed-in' } | { state: 'signed-out' } | { state: 'link-invalid'; message: string };

/**
 * Runs once when the console opens. A sign-in link's token is spent for a session secret
 * (`POST /api/session`; a fetch POST carries this page's Origin, which the gateway checks), the
 * secret kept in localStorage, and the token taken out of the address bar (and so out of a bookmark
 * or a shared screen). A link that fails leaves a session already stored in place.
 */
export async function openConsole(): Promise<SignInState> {
  const token = linkToken();
  if (token !== undefined) {
    // Gone from the address bar whatever happens next: spent or not, it is no use to keep.
    window.history.replaceState(null, '', `/app/${window.location.hash}`);
    const previous = stored.get();
    const res = await fetch('/api/session', {
      method: 'POST',
      // Lets the answer expire the cookie older versions set (a browser ignores Set-Cookie with 'omit').
      credentials: 'same-origin',
      headers: { accept: 'application/json', 'content-type': 'application/json', ...sessionHeader(previous) },
      body: JSON.stringify({ token }),
    });
    const result = (await res.json().catch(() => undefined)) as ApiResult<ConsoleSignIn> | undefined;
    if (result?.ok) {
      stored.set(result.value.secret);
      return { state: 'signed-in' };
    }
    const message = result?.ok === false ? result.error.message : `The gateway answered HTTP ${res.status}`;
    if (stored.get() === undefined) return { state: 'link-invalid', message };
  }
  return stored.get() === undefined ? { state: 'signed-out' } : { state: 'signed-in' };
}

export const api = {
  /** Needs no sign-in: whether the stored session is live, and the CLI command the sign-in page prints. */
  session: () => call<ConsoleSessionView>('GET', '/api/session'),
  backends: () => call<BackendStatus[]>('GET', '/api/backends'),
  /** Ends the session on the server; this browser forgets it whatever the answer. */
  logout: async () => {
    const secret = stored.get();
    try {
      await call<null>('POST', '/api/session/logout');
    } finally {
      stored.clear(secret);
    }
  },
  connections: () => call<ClientConnectionView[]>('GET', '/api/connections'),
  connect: (client: string) => call<ClientChangeView>('POST', `/api/connections/${encodeURIComponent(client)}`, {}),
  disconnect: (client: string) => call<ClientChangeView>('DELETE', `/api/connections/${encodeURIComponent(client)}`),
  tunnel: () => call<TunnelStatus>('GET', '/api/tunnel'),
  startTunnel: () => call<TunnelStatus>('POST', '/api/tunnel'),
  stopTunnel: () => call<TunnelStatus>('DELETE', '/api/tunnel'),
  gateway: () => call<GatewayStatusView>('GET', '/api/gateway'),
  setPaused: (paused: boolean) => call<GatewayStatusView>('PUT', '/api/gateway', { paused }),
  testBackend: (name: string, config: BackendEntry) =>
    call<BackendTestResult>('POST', `/api/backends/${encodeURIComponent(name)}/test`, config),
  backendConfig: (name: string) => call<BackendEntry>('GET', `/api/backends/${encodeURIComponent(name)}/config`),
  backendStderr: (name: string) => call<string[]>('GET', `/api/backends/${encodeURIComponent(name)}/stderr`),
  saveBackend: (name: string, config: unknown) =>
    call<BackendStatus[]>('PUT', `/api/backends/${encodeURIComponent(name)}`, config),
  removeBackend: (name: string) => call<BackendStatus[]>('DELETE', `/api/backends/${encodeURIComponent(name)}`),
  restartBackend: (name: string) => call<null>('POST', `/api/backends/${encodeURIComponent(name)}/restart`),
  tools: () => call<ToolView[]>('GET', '/api/tools'),
  activity: (after?: number) => call<ActivityEntry[]>('GET', `/api/activity${after ? `?after=${after}` : ''}`),
  setTool: (backend: string, tool: string, change: ToolOverrideInput) =>
    call<ToolView[]>('PUT', `/api/tools/${encodeURIComponent(backend)}/${encodeURIComponent(tool)}`, change),
  clients: () => call<ClientView[]>('GET', '/api/clients'),
  revokeClient: (id: string) => call<null>('DELETE', `/api/clients/${encodeURIComponent(id)}`),
  setClientScopes: (id: string, scopes: string[]) =>
    call<ClientView>('PUT', `/api/clients/${encodeURIComponent(id)}/scopes`, { scopes } satisfies SetClientScopesInput),
  scopes: () => call<ScopeView[]>('GET', '/api/scopes'),
  tokens: () => call<PersonalTokenView[]>('GET', '/api/tokens'),
  createToken: (input: CreatePersonalTokenInput) => call<CreatedPersonalToken>('POST', '/api/tokens', input),
  revokeToken: (id: string) => call<null>('DELETE', `/api/tokens/${encodeURIComponent(id)}`),
  consents: () => call<PendingConsentView[]>('GET', '/api/consents'),
  decideConsent: (id: string, decision: 'approve' | 'deny', scopes: string[]) =>
    call<null>('POST', `/api/consents/${encodeURIComponent(id)}`, { decision, scopes }),
  settings: () => call<SettingsView>('GET', '/api/settings'),
  saveSettings: (input: SettingsInput) => call<SettingsView>('PUT', '/api/settings', input),
  importPreview: (client: string) => call<ImportPreview>('GET', `/api/import/${encodeURIComponent(client)}`),
  importServers: (client: string, input: ImportInput) =>
    call<ImportResult>('POST', `/api/import/${encodeURIComponent(client)}`, input),
};

function unwrap<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new ApiError(result.error);
  return result.value;
}

// The desktop app's preload bridge (`window.cortex`, DesktopBridge in the contract). Feature-detected
// member by member: headless there is no bridge, and an older app may lack a call.
const bridge = (window as { cortex?: Partial<DesktopBridge> }).cortex;
const getSettings = bridge?.getSettings;
const setSettings = bridge?.setSettings;
const openLogs = bridge?.openLogs;
const platform = bridge?.platform;

/** Desktop-only facilities; an undefined member is not available here. */
export const desktop = {
  startAtLogin:
    getSettings && setSettings
      ? {
          get: async () => unwrap(await getSettings()).startAtLogin,
          set: async (enabled: boolean) => unwrap(await setSettings({ startAtLogin: enabled })).startAtLogin,
        }
      : undefined,
  openLogs: openLogs && (async () => void unwrap(await openLogs())),
  platform: platform && (async () => unwrap(await platform())),
};
