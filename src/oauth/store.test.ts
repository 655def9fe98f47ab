import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DISK_KINDS, testDisk } from '../../test/helpers/disk.js';
import { isGatewayError } from '../shared/errors.js';
import { OAuthStore, type PersonalToken } from './store.js';

const token = (id: string): PersonalToken => ({
  id,
  name: id,
  scopes: ['*'],
  createdAt: 1,
  expiresAt: 2,
  jti: `jti-${id}`,
});

describe.each(DISK_KINDS)('OAuth store on a full disk (%s)', (kind) => {
  it('a failed update is visible neither in memory nor in the file', async () => {
    await using disk = await testDisk(kind);
    const path = join(disk.dir, 'oauth.json');
    const store = await OAuthStore.open(path, { writeFile: disk.writeFile });
    await store.update((state) => void (state.personalTokens.kept = token('kept')));
    const before = await readFile(path, 'utf8');
    await disk.fill();
    const error = await store
      .update((state) => {
        state.personalTokens.lost = token('lost');
        state.personalTokens.kept!.revokedAt = 5;
      })
      .catch((e: unknown) => e);
    expect(isGatewayError(error, 'disk_full')).toBe(true);
    expect((error as Error).message).toContain(path);
    expect(Object.keys(store.state.personalTokens)).toEqual(['kept']);
    expect(store.state.personalTokens.kept!.revokedAt).toBeUndefined();
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await disk.temps()).toEqual([]);
  });

  it('the next update after space returns is written, and survives reopening', async () => {
    await using disk = await testDisk(kind);
    const path = join(disk.dir, 'oauth.json');
    const store = await OAuthStore.open(path, { writeFile: disk.writeFile });
    await disk.fill();
    await expect(store.update((state) => void (state.personalTokens.a = token('a')))).rejects.toThrow();
    await disk.free();
    await store.update((state) => void (state.personalTokens.b = token('b')));
    expect(Object.keys(store.state.personalTokens)).toEqual(['b']);
    expect(Object.keys((await OAuthStore.open(path)).state.personalTokens)).toEqual(['b']);
  });
});

describe('OAuth store', () => {
  it('runs concurrent updates one after another, each on the state the previous one left', async () => {
    const store = OAuthStore.memory();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.update((state) => {
          state.revokedJtis[`j${i}`] = Object.keys(state.revokedJtis).length;
        }),
      ),
    );
    expect(Object.values(store.state.revokedJtis)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a change that throws leaves the state as it was', async () => {
    const store = OAuthStore.memory();
    await expect(
      store.update((state) => {
        state.revokedJtis.x = 1;
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(store.state.revokedJtis).toEqual({});
  });
});
