import type { Response } from 'express';
import { ERROR_TABLE, GatewayError } from '../shared/errors.js';

/** The HTTP status of an expected owner API failure, or undefined for anything else (a 500, logged). */
export function expectedStatus(error: unknown): number | undefined {
  return error instanceof GatewayError ? ERROR_TABLE[error.code].status : undefined;
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
