import { describe, expect, it } from 'vitest';
import { getClient } from '../engine.js';
import { CLIENT_IDS } from '../ids.js';
import type { ClientEnvironment } from '../types.js';
import { CLIENTS } from './index.js';

const linux: ClientEnvironment = { platform: 'linux', homedir: '/home/ada', env: {}, execPath: process.execPath };

// What every adapter of the table must do; a new adapter is held to it without a line here.
describe('the adapter table', () => {
  it('holds one adapter per client id, in the order of CLIENT_IDS', () => {
    expect(CLIENTS.map((c) => c.id)).toEqual([...CLIENT_IDS]);
  });

  it.each(CLIENTS.filter((c) => c.id !== 'claude-desktop').map((c) => [c.id, c] as const))(
    '%s: reads back the URL of the entry it writes',
    async (_id, adapter) => {
      const url = 'http://127.0.0.1:3590/mcp';
      expect(adapter.entryUrl((await adapter.entry(url, linux)).value)).toBe(url);
    },
  );

  it.each(CLIENTS.map((c) => [c.id, c] as const))('%s: a config path and install markers on each OS', (_id, a) => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      const environment = { ...linux, platform, homedir: platform === 'win32' ? 'C:\\Users\\ada' : '/home/ada' };
      expect(a.configPath(environment, () => false)).toMatch(/\.json$/);
      expect(a.installMarkers(environment).length).toBeGreaterThan(0);
    }
  });

  it('refuses an unknown client, naming every id of the table and the field', () => {
    expect(() => getClient('emacs')).toThrow(`unknown client "emacs"; one of: ${CLIENT_IDS.join(', ')}`);
    expect(() => getClient('emacs')).toThrow(expect.objectContaining({ code: 'not_found', field: 'client' }));
  });
});
