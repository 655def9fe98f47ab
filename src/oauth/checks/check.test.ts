import { describe, expect, it } from 'vitest';
import { OAuthError } from '../errors.js';
import { must } from './check.js';

describe('must', () => {
  it('passes when every check passed', () => {
    expect(() => must(undefined, undefined)).not.toThrow();
  });

  it('throws the first failure in the order given', () => {
    const first = new OAuthError('invalid_grant', 'first');
    const second = new OAuthError('invalid_target', 'second');
    expect(() => must(undefined, first, second)).toThrow(first);
  });
});
