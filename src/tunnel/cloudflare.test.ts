import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isConnectionRegistered, parseQuickTunnelUrl } from './cloudflare.js';
import { findExecutable } from './process-tunnel.js';

// Lines as cloudflared 2025.x prints them on stderr (zerolog console format).
const BOX = [
  '2026-11-25T12:00:01Z INF +--------------------------------------------------------------------------------------------+',
  '2026-11-25T12:00:01Z INF |  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |',
  '2026-11-25T12:00:01Z INF |  https://seasonal-deck-organisms-sf.trycloudflare.com                                     |',
  '2026-11-25T12:00:01Z INF +--------------------------------------------------------------------------------------------+',
];

describe('parseQuickTunnelUrl', () => {
  it('finds the public URL in the box cloudflared prints', () => {
    expect(BOX.map(parseQuickTunnelUrl).filter(Boolean)).toEqual([
      'https://seasonal-deck-organisms-sf.trycloudflare.com',
    ]);
  });

  it('ignores the disclaimer, whose links are not the tunnel', () => {
    const line =
      '2026-11-25T12:00:00Z INF Thank you for trying Cloudflare Tunnel. ... Terms of Use (https://www.cloudflare.com/website-terms/) ... following: https://developers.cloudflare.com/cloudflare-one/connections/connect-apps';
    expect(parseQuickTunnelUrl(line)).toBeUndefined();
  });

  it('ignores the quick-tunnel service address in a failure', () => {
    const line =
      '2026-11-25T12:00:00Z ERR failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": dial tcp: i/o timeout';
    expect(parseQuickTunnelUrl(line)).toBeUndefined();
  });

  it('ignores api.trycloudflare.com even on an informational line', () => {
    expect(parseQuickTunnelUrl('INF using https://api.trycloudflare.com')).toBeUndefined();
  });

  it('ignores a trycloudflare URL with a path (a request log, not the announcement)', () => {
    expect(parseQuickTunnelUrl('INF GET https://a-b-c.trycloudflare.com/mcp 200')).toBeUndefined();
  });

  it('lowercases the host', () => {
    expect(parseQuickTunnelUrl('INF |  https://Words-Here.TryCloudflare.com  |')).toBe(
      'https://words-here.trycloudflare.com',
    );
  });

  it('does not take http:// or look-alike domains', () => {
    expect(parseQuickTunnelUrl('INF |  http://a-b.trycloudflare.com  |')).toBeUndefined();
    expect(parseQuickTunnelUrl('INF |  https://a-b.trycloudflare.com.evil.example  |')).toBeUndefined();
  });

  it('accepts the URL without the box (plain line)', () => {
    expect(parseQuickTunnelUrl('https://calm-sea-1234.trycloudflare.com')).toBe(
      'https://calm-sea-1234.trycloudflare.com',
    );
  });
});

describe('isConnectionRegistered', () => {
  it('recognises the edge connection line', () => {
    expect(
      isConnectionRegistered(
        '2026-11-25T12:00:02Z INF Registered tunnel connection connIndex=0 connection=6e4b event=0 ip=198.41.192.7 location=ams08 protocol=quic',
      ),
    ).toBe(true);
    expect(isConnectionRegistered(BOX[2]!)).toBe(false);
  });
});

describe('findExecutable', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-which-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(process.platform === 'win32')('finds an executable on PATH', async () => {
    await writeFile(join(dir, 'cloudflared'), '#!/bin/sh\n');
    await chmod(join(dir, 'cloudflared'), 0o755);
    expect(await findExecutable('cloudflared', { PATH: ['/nonexistent', dir].join(delimiter) })).toBe(
      join(dir, 'cloudflared'),
    );
  });

  it.skipIf(process.platform === 'win32')('skips a file that is not executable', async () => {
    await writeFile(join(dir, 'cloudflared'), '#!/bin/sh\n');
    await chmod(join(dir, 'cloudflared'), 0o644);
    expect(await findExecutable('cloudflared', { PATH: dir })).toBeUndefined();
  });

  it('answers undefined for an explicit path that does not exist', async () => {
    expect(await findExecutable(join(dir, 'missing', 'cloudflared'), {})).toBeUndefined();
  });
});
