import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../shared/errors.js';
import { backendWorkingDir } from './working-dir.js';

describe('backendWorkingDir', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cortex-workdir-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates a private folder per backend in the data folder', async () => {
    const dir = await backendWorkingDir({ id: 'github' }, { dataDir: join(root, 'data'), home: '/nowhere' });
    expect(dir).toBe(join(root, 'data', 'servers', 'github'));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('falls back to the home folder without a data folder', async () => {
    expect(await backendWorkingDir({ id: 'github' }, { home: root })).toBe(root);
  });

  it('reads a relative cwd from the config file’s folder, or from home without one', async () => {
    await mkdir(join(root, 'work'));
    const options = { dataDir: join(root, 'data'), configDir: root, home: '/nowhere' };
    expect(await backendWorkingDir({ id: 'a', cwd: 'work' }, options)).toBe(join(root, 'work'));
    expect(await backendWorkingDir({ id: 'a', cwd: 'work' }, { home: root })).toBe(join(root, 'work'));
    expect(await backendWorkingDir({ id: 'a', cwd: root }, options)).toBe(root);
  });

  it('refuses a cwd that is not an existing folder, naming the field and the folder', async () => {
    const error = await backendWorkingDir({ id: 'a', cwd: 'missing' }, { configDir: root }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({
      code: 'config_invalid',
      field: 'cwd',
      message: `cwd: ${join(root, 'missing')} is not an existing folder`,
    });
  });
});
