import type { NextFunction, Request, Response } from 'express';
import type { ApiFailure, ApiResult } from '../api/contract.js';
import { describeError, ERROR_TABLE, GatewayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { clientBodyFailure } from './body.js';

/** The HTTP status of an expected owner API failure (ERROR_TABLE), or undefined for anything else (a 500, logged). */
export function expectedStatus(error: unknown): number | undefined {
  return error instanceof GatewayError ? ERROR_TABLE[error.code].status : undefined;
}

/** The ApiResult body of an expected failure: its code, its message and the field (or file) at fault. */
export function failureBody(error: ApiFailure | GatewayError): ApiResult<never> {
  const { code, message, field } = error;
  return { ok: false, error: { code, message, ...(field ? { field } : {}) } };
}

/** Answers an owner API refusal that is not a thrown error (a sign-in check, a refused preflight). */
export function refuse(res: Response, status: number, error: ApiFailure): void {
  res.status(status).json(failureBody(error));
}

/**
 * The one place where failures no route answered become a response. Expected ones (a full disk, a
 * refused write, a conflict) are answered with their code and message, which name the file at
 * fault; anything unexpected is logged and answered server_error, its details never sent.
 */
export function errorHandler(log: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    // A body the parser refused (too large: 413, malformed: 400) is the client's fault, not ours.
    const refused = clientBodyFailure(error);
    if (refused && !res.headersSent) {
      const code = refused.status === 413 ? 'too_large' : 'invalid_argument';
      if (req.path.startsWith('/api/')) {
        refuse(res, refused.status, { code, message: refused.message, field: 'body' });
      } else {
        res.status(refused.status).json({ error: 'invalid_request', error_description: refused.message });
      }
      return;
    }
    const status = expectedStatus(error);
    if (status && req.path.startsWith('/api/')) {
      if (status >= 500) log.error('request failed', { path: req.path, error: describeError(error) });
      if (res.headersSent) return void res.end();
      res.status(status).json(failureBody(error as GatewayError));
      return;
    }
    log.error('unhandled request error', { path: req.path, error: describeError(error) });
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(500).json({ error: 'server_error' });
  };
}
