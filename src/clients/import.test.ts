import { describe, expect, it } from 'vitest';
import { claudeDesktop } from './adapters/claude-desktop.js';
import { cursor } from './adapters/cursor.js';
import { geminiCli } from './adapters/gemini-cli.js';
import { backendNameFor, convertEntry } from './import.js';
import { windsurf } from './adapters/windsurf.js';

describe('converting a client entry into a backend', () => {
  it('keeps a stdio server and moves its token to a secret', () => {
    const converted = convertEntry(claudeDesktop, {
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-github'],
      env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'ghp_x', LOG: 'info' },
    });
    expect(converted).toEqual({
      entry: {
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-github'],
        env: { GITHUB_PERSONAL_ACCESS_TOKEN: { secret: 'ghp_x' }, LOG: 'info' },
      },
      kind: 'stdio',
      target: 'npx -y @modelcontextprotocol/server-github',
      secrets: ['env.GITHUB_PERSONAL_ACCESS_TOKEN'],
      warnings: [],
    });
  });

  it('keeps a remote server and moves its Authorization header to a secret', () => {
    const converted = convertEntry(cursor, { url: 'https://x.example/mcp', headers: { Authorization: 'Bearer t' } });
    expect(converted).toMatchObject({
      entry: { type: 'http', url: 'https://x.example/mcp', headers: { Authorization: { secret: 'Bearer t' } } },
      secrets: ['headers.Authorization'],
    });
  });

  it("reads Windsurf's serverUrl", () => {
    expect(convertEntry(windsurf, { serverUrl: 'https://w.example/mcp' })).toMatchObject({
      entry: { type: 'http', url: 'https://w.example/mcp' },
    });
  });

  it("tells Gemini CLI's httpUrl (Streamable HTTP) from its url (SSE)", () => {
    expect(convertEntry(geminiCli, { httpUrl: 'https://g.example/mcp' })).toMatchObject({ kind: 'http' });
    expect(convertEntry(geminiCli, { url: 'https://g.example/sse' })).toMatchObject({ kind: 'sse' });
  });

  it('keeps a disabled server disabled', () => {
    expect(convertEntry(cursor, { command: 'x', disabled: true })).toMatchObject({ entry: { enabled: false } });
  });

  it('warns about settings it drops and placeholders it cannot expand', () => {
    const converted = convertEntry(cursor, { command: 'x', env: { KEY: '${env:KEY}' }, timeout: 5 });
    expect(converted).toMatchObject({ secrets: [], entry: { env: { KEY: '${env:KEY}' } } });
    expect((converted as { warnings: string[] }).warnings).toEqual([
      'ignored settings the gateway has no use for: timeout',
      expect.stringContaining('placeholders that only Cursor expands'),
    ]);
  });

  it('refuses an entry with neither a command nor an http(s) URL', () => {
    expect(convertEntry(cursor, { foo: 1 })).toEqual({ problem: 'neither a command nor a URL' });
    expect(convertEntry(cursor, { url: 'ftp://x' })).toEqual({ problem: '"ftp://x" is not an http(s) URL' });
  });
});

describe('backend names', () => {
  it('replaces characters the gateway does not accept', () => {
    expect(backendNameFor('github')).toBe('github');
    expect(backendNameFor('my/server:1')).toBe('my-server-1');
    expect(backendNameFor('my__server')).toBe('my-server');
    expect(backendNameFor('a._b  c')).toBe('a-b-c');
    expect(backendNameFor('x'.repeat(80))).toHaveLength(64);
  });
});
