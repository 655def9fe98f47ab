import { describe, expect, it } from 'vitest';
import { MASK, maskErrorText } from './mask-error.js';

describe('maskErrorText', () => {
  it('masks the backend’s own secret values, longest first, and skips values too short to matter', () => {
    const text = 'refused token abcd1234efgh (prefix abcd1234) for user ab';
    expect(maskErrorText(text, ['abcd1234', 'abcd1234efgh', 'ab'])).toBe(
      `refused token ${MASK} (prefix ${MASK}) for user ab`,
    );
  });

  it('masks bearer credentials, named credentials and credentials in URLs', () => {
    expect(maskErrorText('sent Authorization: Bearer eyJhbGciOi.x.y', [])).not.toContain('eyJhbGciOi');
    expect(maskErrorText('invalid api_key=hunter2hunter; retry', [])).toBe(`invalid api_key=${MASK}; retry`);
    expect(maskErrorText('{"password": "swordfish"} rejected', [])).toBe(`{"password": "${MASK}"} rejected`);
    expect(maskErrorText('GET https://bob:pw@api.example.com/v1?key=abc&x=1 failed', [])).toBe(
      `GET https://${MASK}@api.example.com/v1?${MASK} failed`,
    );
  });

  it('masks runs shaped like keys, and leaves ordinary error text alone', () => {
    expect(maskErrorText('invalid API key sk-live-4f9a8c7e6d5b4a3c2e1f0a9b', [])).toBe(`invalid API key ${MASK}`);
    const ordinary = 'process exited with code 3 during start-up; connect ECONNREFUSED 127.0.0.1:8080';
    expect(maskErrorText(ordinary, [])).toBe(ordinary);
  });
});
