import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRuntimeInfo, removeRuntimeInfo, runtimeFilePath, writeRuntimeInfo } from './runtime-file.js';

describe('runtime file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-runtime-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const info = (fields: { pid?: number; ownerToken?: string } = {}) => ({
    mcpUrl: 'http://127.0.0.1:3590/mcp',
    consoleUrl: 'http://127.0.0.1:3590/app/',
    pid: process.pid,
    ownerToken: 'mine',
    ...fields,
  });

  it('is removed by the process that wrote it', async () => {
    await writeRuntimeInfo(dir, info());
    expect(await removeRuntimeInfo(dir, { pid: process.pid, ownerToken: 'mine' })).toBe(true);
    await expect(stat(runtimeFilePath(dir))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('is not removed by a process that did not write it (another pid)', async () => {
    await writeRuntimeInfo(dir, info({ pid: process.pid }));
    expect(await removeRuntimeInfo(dir, { pid: process.pid + 1, ownerToken: 'mine' })).toBe(false);
    expect(await readRuntimeInfo(dir)).toEqual(info());
  });

  it('is not removed by a writer with the same pid but another owner token (a later start)', async () => {
    await writeRuntimeInfo(dir, info({ ownerToken: 'later' }));
    expect(await removeRuntimeInfo(dir, { pid: process.pid, ownerToken: 'mine' })).toBe(false);
    expect((await readRuntimeInfo(dir))?.ownerToken).toBe('later');
  });

  it('is not removed when unreadable, or when it names a process that has exited', async () => {
    await writeFile(runtimeFilePath(dir), '{ half');
    expect(await removeRuntimeInfo(dir, { pid: process.pid, ownerToken: 'mine' })).toBe(false);
    expect(await readFile(runtimeFilePath(dir), 'utf8')).toBe('{ half');
    await writeRuntimeInfo(dir, info({ pid: 999_999_999, ownerToken: 'gone' }));
    expect(await removeRuntimeInfo(dir, { pid: process.pid, ownerToken: 'mine' })).toBe(false);
    expect(JSON.parse(await readFile(runtimeFilePath(dir), 'utf8'))).toMatchObject({ pid: 999_999_999 });
  });

  it('removing when there is no file is not an error', async () => {
    expect(await removeRuntimeInfo(dir, { pid: process.pid, ownerToken: 'mine' })).toBe(false);
  });
});
