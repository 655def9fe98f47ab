// The renderer's only way to the core: the console API over HTTP on the same origin (the session
// cookie authenticates it). Shapes come from the contract, as types only.
import type {
  ActivityEntry,
  ApiResult,
  BackendEntry,
  BackendTestResult,
  BackendStatus,
  ClientView,
  CreatePersonalTokenInput,
  CreatedPersonalToken,
  PendingConsentView,
  PersonalTokenView,
  ScopeView,
  SettingsInput,
  SettingsView,
  ToolOverrideInput,
  ToolView,
} from '../../src/api/contract.js';

export class SignedOutError extends Error {}

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
  if (res.status === 401) throw new SignedOutError('Sign-in required');
  const result = (await res.json()) as ApiResult<T> & { error?: { field?: string } };
  if (!result.ok) throw new ApiError(result.error.message, result.error.field);
  return result.value;
}

export const api = {
  backends: () => call<BackendStatus[]>('GET', '/api/backends'),
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
  scopes: () => call<ScopeView[]>('GET', '/api/scopes'),
  tokens: () => call<PersonalTokenView[]>('GET', '/api/tokens'),
  createToken: (input: CreatePersonalTokenInput) => call<CreatedPersonalToken>('POST', '/api/tokens', input),
  revokeToken: (id: string) => call<null>('DELETE', `/api/tokens/${encodeURIComponent(id)}`),
  consents: () => call<PendingConsentView[]>('GET', '/api/consents'),
  decideConsent: (id: string, decision: 'approve' | 'deny', scopes: string[]) =>
    call<null>('POST', `/api/consents/${encodeURIComponent(id)}`, { decision, scopes }),
  settings: () => call<SettingsView>('GET', '/api/settings'),
  saveSettings: (input: SettingsInput) => call<SettingsView>('PUT', '/api/settings', input),
};

/**
 * What the desktop app's preload bridge (`window.cortex`) may offer beyond the HTTP API. Feature-detected:
 * headless there is no bridge, and an older bridge may lack a member. IPC answers ApiResult, as HTTP does.
 */
interface DesktopBridge {
  startAtLogin?: {
    get(): Promise<ApiResult<boolean>>;
    set(enabled: boolean): Promise<ApiResult<boolean>>;
  };
}

function unwrap<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new ApiError(result.error.message);
  return result.value;
}

const bridge = (window as { cortex?: DesktopBridge }).cortex;
const startAtLogin = bridge?.startAtLogin;

/** Desktop-only settings; undefined members are not available (headless console, or an older app). */
export const desktop = {
  startAtLogin: startAtLogin && {
    get: async () => unwrap(await startAtLogin.get()),
    set: async (enabled: boolean) => unwrap(await startAtLogin.set(enabled)),
  },
};
