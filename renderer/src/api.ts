// The renderer's only way to the core: the console API over HTTP on the same origin (the session
// cookie authenticates it). Shapes come from the contract, as types only.
import type {
  ActivityEntry,
  ApiResult,
  BackendStatus,
  ClientView,
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
};
