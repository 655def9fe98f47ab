// The renderer's only way to the core: the console API over HTTP on the same origin (the session
// cookie authenticates it). Shapes come from the contract, as types only.
import type {
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

/** Dispatched on `window` when the API answers 401: the session cookie expired or the gateway restarted. */
export const SIGNED_OUT_EVENT = 'cortex:signed-out';

/** A refusal from the API, with the JSON path of the field at fault when there is one. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 401) {
    // The whole console depends on the session: tell the shell once, whichever page asked.
    window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
    throw new SignedOutError('Sign-in required');
  }
  // Refusals (a full disk answers 507) carry a message naming the file or field at fault; a body
  // that is not an ApiResult (an unexpected 500) still becomes a message rather than a blank error.
  const result = (await res.json().catch(() => undefined)) as
    (ApiResult<T> & { error?: { field?: string } }) | undefined;
  if (result?.ok === true) return result.value;
  if (result?.ok === false && typeof result.error?.message === 'string') {
    throw new ApiError(result.error.message, result.error.field);
  }
  throw new ApiError(`The gateway answered HTTP ${res.status}${res.status >= 500 ? ' (details are in its log)' : ''}`);
}

export const api = {
  backends: () => call<BackendStatus[]>('GET', '/api/backends'),
  logout: () => call<null>('POST', '/api/session/logout'),
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
  if (!result.ok) throw new ApiError(result.error.message);
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
