import { describe, expect, it } from 'vitest';
import { responseTypeIsCode } from './response-type.js';

describe('responseTypeIsCode', () => {
  it('accepts code', () => {
    expect(responseTypeIsCode('code')).toBeUndefined();
  });

  it('refuses the implicit flow and a missing response type', () => {
    expect(responseTypeIsCode('token')?.code).toBe('unsupported_response_type');
    expect(responseTypeIsCode(undefined)?.code).toBe('unsupported_response_type');
  });
});
