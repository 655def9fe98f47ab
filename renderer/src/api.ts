// The renderer's only way to the core: the console API over HTTP on the same origin (the session
// cookie authenticates it). Shapes come from the contract, as types only.
import type { ApiResult, BackendStatus } from '../../src/api/contract.js';

export class SignedOutError extends Error {}

async function call<T>(path: string): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (res.status === 401) throw new SignedOutError('Sign-in required');
  const body = (await res.json()) as ApiResult<T>;
  if (!body.ok) throw new Error(body.error.message);
  return body.value;
}

export const api = {
  backends: () => call<BackendStatus[]>('/api/backends'),
};
