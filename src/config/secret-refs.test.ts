import { describe, expect, it } from 'vitest';
import { createMemorySecretStore } from '../store/secrets.js';
import {
  looksSecret,
  maskSecrets,
  plainSecretValues,
  referencedSecrets,
  resolveSecretRefs,
  sealSecretInputs,
  secretRef,
  secretRefId,
} from './secret-refs.js';

describe('secret references', () => {
  it('round-trips an id through a reference', () => {
    expect(secretRef('github.env.TOKEN')).toBe('${secret:github.env.TOKEN}');
    expect(secretRefId('${secret:github.env.TOKEN}')).toBe('github.env.TOKEN');
  });

  it('treats a value that only contains a reference as plain', () => {
    expect(secretRefId('Bearer ${secret:x}')).toBeUndefined();
  });

  it('moves a new secret to the staged values and leaves a reference', () => {
    const sealed = sealSecretInputs({ gh: { command: 'x', env: { TOKEN: { secret: 's3' }, MODE: 'fast' } } }, {}, 'f');
    expect(sealed.servers.gh).toEqual({ command: 'x', env: { TOKEN: '${secret:gh.env.TOKEN}', MODE: 'fast' } });
    expect([...sealed.staged]).toEqual([['gh.env.TOKEN', 's3']]);
  });

  it('keeps the saved reference for { secret: true }', () => {
    const previous = { api: { type: 'http', url: 'https://x', headers: { Authorization: '${secret:old.id}' } } };
    const sealed = sealSecretInputs(
      { api: { type: 'http', url: 'https://x', headers: { Authorization: { secret: true } } } },
      previous,
      'f',
    );
    expect((sealed.servers.api as { headers: object }).headers).toEqual({ Authorization: '${secret:old.id}' });
    expect(sealed.staged.size).toBe(0);
  });

  it('reports the references it kept, by id, with their field', () => {
    const previous = { gh: { command: 'x', env: { TOKEN: '${secret:gh.env.TOKEN}' } } };
    const sealed = sealSecretInputs({ gh: { command: 'x', env: { TOKEN: { secret: true } } } }, previous, 'f');
    expect([...sealed.kept]).toEqual([['gh.env.TOKEN', 'mcpServers.gh.env.TOKEN']]);
  });

  it('refuses { secret: true } with nothing saved as a conflict, naming the field', () => {
    const seal = () => sealSecretInputs({ gh: { command: 'x', env: { TOKEN: { secret: true } } } }, {}, 'f');
    expect(seal).toThrow(/^f: no saved secret to keep/);
    expect(seal).toThrow(expect.objectContaining({ code: 'conflict', field: 'mcpServers.gh.env.TOKEN' }));
  });

  it('refuses an empty secret, naming the field', () => {
    const seal = () => sealSecretInputs({ gh: { command: 'x', env: { TOKEN: { secret: '' } } } }, {}, 'f');
    expect(seal).toThrow(
      expect.objectContaining({
        field: 'mcpServers.gh.env.TOKEN',
        message: 'f: a secret must be a non-empty string (or true to keep it)',
      }),
    );
    expect(seal).toThrow(expect.objectContaining({ code: 'config_invalid', field: 'mcpServers.gh.env.TOKEN' }));
  });

  it('lists which backends refer to which secrets', () => {
    const refs = referencedSecrets({ a: { env: { T: '${secret:s}' } }, b: { headers: { H: '${secret:s}' } } });
    expect([...refs]).toEqual([['s', ['a', 'b']]]);
  });

  it('masks references and leaves plain values', () => {
    expect(maskSecrets({ command: 'x', env: { T: '${secret:s}', P: 'plain' } })).toEqual({
      command: 'x',
      env: { T: { secret: true }, P: 'plain' },
    });
  });

  it('resolves references from the store', async () => {
    const store = createMemorySecretStore({ s: 'value' });
    expect(await resolveSecretRefs({ T: '${secret:s}', P: 'p' }, store, 'env')).toEqual({ T: 'value', P: 'p' });
  });

  it('names the field and id of a missing secret, not a value', async () => {
    await expect(resolveSecretRefs({ T: '${secret:gone}' }, createMemorySecretStore(), 'env')).rejects.toThrow(
      'env.T: the secret "gone" is not in the secret store',
    );
  });
});

describe('looksSecret', () => {
  it('knows credential names and credential-looking values', () => {
    expect(looksSecret('OPENAI_API_KEY', 'x')).toBe(true);
    expect(looksSecret('Authorization', 'x')).toBe(true);
    expect(looksSecret('DB_PASSWORD', 'x')).toBe(true);
    expect(looksSecret('WHATEVER', 'sk-abc')).toBe(true);
    expect(looksSecret('LOG_LEVEL', 'debug')).toBe(false);
    expect(looksSecret('API_KEY', '')).toBe(false);
  });
});

describe('plainSecretValues', () => {
  it('lists the credential-looking values written in plain text, not references or ordinary values', () => {
    expect(
      plainSecretValues({ API_KEY: 'k-123', LOG_LEVEL: 'debug', TOKEN: '${secret:gh.env.TOKEN}', X: 'ghp_abc' }),
    ).toEqual(['k-123', 'ghp_abc']);
  });
});
