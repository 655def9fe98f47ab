import type { Response } from 'express';
import { GatewayError, type GatewayErrorCode } from '../shared/errors.js';

/** Expected failures of owner API actions and their HTTP status; anything else is a 500 (logged). */
const STATUS: Partial<Record<GatewayErrorCode, number>> = {
  not_found: 404,
  invalid_argument: 400,
  config_invalid: 400,
  client_not_installed: 409,
  client_config_invalid: 409,
  node_unavailable: 409,
  conflict: 409,
  already_running: 409,
  unauthorized: 401,
  too_large: 413,
  // RFC 4918 §11.5: the server cannot store what the request needs.
  disk_full: 507,
  permission_denied: 500,
};

/** The HTTP status of an expected owner API failure, or undefined for anything else (a 500, logged). */
export function expectedStatus(error: unknown): number | undefined {
  return error instanceof GatewayError ? STATUS[error.code] : undefined;
}

/** The ApiResult body of an expected failure: its code, its message and the field (or file) at fault. */
export function failureBody(error: GatewayError) {
  const { code, message, field } = error;
  return { ok: false as const, error: { code, message, ...(field ? { field } : {}) } };
}

/** Runs an owner API action and answers its ApiResult: the value, or an expected failure's code and message. */
export async function answer(res: Response, action: () => Promise<unknown>): Promise<void> {
  try {
    res.json({ ok: true, value: await action() });
  } catch (error) {
    const status = expectedStatus(error);
    if (!status) throw error;
    res.status(status).json(failureBody(error as GatewayError));
  }
}
