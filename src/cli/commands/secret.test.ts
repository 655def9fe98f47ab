import { describe, expect, it } from 'vitest';
import { plainSecrets } from './secret.js';

describe('plainSecrets', () => {
  it('names credential-looking values written in plain text, not references nor ordinary values', () => {
    expect(
      plainSecrets([
        { name: 'gh', env: { GITHUB_TOKEN: 'ghp_abc', MODE: 'fast', API_KEY: '${secret:gh.env.API_KEY}' } },
        { name: 'web', headers: { Authorization: 'Bearer xyz', Accept: 'application/json' } },
        { name: 'plain' },
      ]),
    ).toEqual(['gh env.GITHUB_TOKEN', 'web headers.Authorization']);
  });
});
