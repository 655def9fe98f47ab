import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileLogger } from './file-logger.js';

describe('file logger', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-logs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends lines at or above its level', async () => {
    const logger = createFileLogger({ path: join(dir, 'logs', 'gw.log'), level: 'info' });
    logger.debug('too chatty');
    logger.child({ backend: 'gh' }).info('backend ready', { tools: 3 });
    await logger.close();
    const text = await readFile(join(dir, 'logs', 'gw.log'), 'utf8');
    expect(text).toMatch(/info {2}backend ready backend=gh tools=3\n$/);
    expect(text).not.toContain('too chatty');
  });

  it('never writes a token or an Authorization value', async () => {
    const logger = createFileLogger({ path: join(dir, 'gw.log') });
    logger.warn('upstream refused', { authorization: 'Bearer abc.def', accessToken: 'tok_123', note: 'Bearer xyz' });
    await logger.close();
    const text = await readFile(join(dir, 'gw.log'), 'utf8');
    for (const secret of ['abc.def', 'tok_123', 'xyz']) expect(text).not.toContain(secret);
  });

  it('writes one line per call, a newline or bidi control in a field escaped', async () => {
    const logger = createFileLogger({ path: join(dir, 'gw.log') });
    logger.info('client registered', { clientName: 'Claude\r\n2026-12-01 error  forged\u202e' });
    logger.info('next');
    await logger.close();
    const lines = (await readFile(join(dir, 'gw.log'), 'utf8')).split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('clientName="Claude\\r\\n2026-12-01 error  forged\\u202e"');
  });

  it.skipIf(process.platform === 'win32')('creates the file readable by the user only', async () => {
    const logger = createFileLogger({ path: join(dir, 'gw.log') });
    logger.info('hello');
    await logger.close();
    expect((await stat(join(dir, 'gw.log'))).mode & 0o777).toBe(0o600);
  });

  it('moves a full file to .1 and starts a new one', async () => {
    const path = join(dir, 'gw.log');
    const logger = createFileLogger({ path, maxBytes: 200 });
    for (let i = 0; i < 6; i++) logger.info(`line ${i} ${'x'.repeat(40)}`);
    await logger.close();
    const current = await readFile(path, 'utf8');
    const previous = await readFile(`${path}.1`, 'utf8');
    expect(current.length).toBeLessThanOrEqual(200);
    expect(current).toContain('line 5');
    expect(previous).toContain('line 2');
  });
});
