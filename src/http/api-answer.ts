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
  // RFC 4918 §11.5: the server cannot store what the request needs.
  disk_full: 507,
  permission_denied: 500,
};

/** Runs an owner API action and answers its ApiResult: the value, or an expected failure's code and message. */
export async function answer(res: Response, action: () => Promise<unknown>): Promise<void> {
  try {
    res.json({ ok: true, value: await action() });
  } catch (error) {
    const status = error instanceof GatewayError ? STATUS[error.code] : undefined;
    if (!status) throw error;
    const { code, message, field } = error as GatewayError;
    res.status(status).json({ ok: false, error: { code, message, ...(field ? { field } : {}) } });
  }
}
