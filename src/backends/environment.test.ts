import { describe, expect, it } from 'vitest';
import { childEnvironment, enrichedPath, resolveCommand } from './environment.js';

describe('resolveCommand', () => {
  it('uses the .cmd shim for npx on Windows only', () => {
    expect(resolveCommand('npx', 'win32')).toBe('npx.cmd');
    expect(resolveCommand('npx', 'linux')).toBe('npx');
    expect(resolveCommand('python', 'win32')).toBe('python');
  });
});

describe('enrichedPath', () => {
  it('adds Homebrew on macOS after the existing entries, without duplicates', () => {
    const path = enrichedPath('/usr/bin:/opt/homebrew/bin', 'darwin', '/Users/a');
    const parts = path.split(':');
    expect(parts.slice(0, 2)).toEqual(['/usr/bin', '/opt/homebrew/bin']);
    expect(parts.filter((p) => p === '/opt/homebrew/bin')).toHaveLength(1);
    expect(parts).toContain('/Users/a/.volta/bin');
  });
  it('uses ; and the npm folder on Windows', () => {
    const path = enrichedPath('C:\\Windows', 'win32', 'C:\\Users\\a', { APPDATA: 'C:\\Users\\a\\AppData\\Roaming' });
    expect(path.split(';')).toContain('C:\\Users\\a\\AppData\\Roaming\\npm');
  });
});

describe('childEnvironment', () => {
  it('passes the backend’s own variables and PATH, not the gateway’s other secrets', () => {
    const env = childEnvironment({ API_KEY: 'k' }, 'linux', '/home/a', { PATH: '/bin', GITHUB_TOKEN: 'secret' });
    expect(env.API_KEY).toBe('k');
    expect(env.PATH!.startsWith('/bin')).toBe(true);
    expect(env).not.toHaveProperty('GITHUB_TOKEN');
  });
});
