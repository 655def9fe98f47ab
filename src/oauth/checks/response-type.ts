import { OAuthError } from '../errors.js';
import type { CheckResult } from './check.js';

/** OAuth 2.1 §4.1.1: the code flow is the only one this server offers (metadata says so too). */
export function responseTypeIsCode(responseType: string | undefined): CheckResult {
  return responseType === 'code'
    ? undefined
    : new OAuthError('unsupported_response_type', 'response_type must be code');
}
