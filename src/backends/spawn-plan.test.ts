import { describe, expect, it } from 'vitest';
import { escapeArgument, spawnPlan } from './spawn-plan.js';

const files = (...paths: string[]) => {
  const set = new Set(paths.map((p) => p.toLowerCase()));
  return (path: string) => set.has(path.toLowerCase());
};

describe('spawnPlan', () => {
  it('spawns the command as written on POSIX', () => {
    expect(spawnPlan('npx', ['-y', 'pkg'], { platform: 'linux', env: {} })).toEqual({
      file: 'npx',
      args: ['-y', 'pkg'],
    });
  });

  it('runs an .exe found on PATH directly on Windows', () => {
    const plan = spawnPlan('node', ['server.js'], {
      platform: 'win32',
      env: { Path: 'C:\\Windows;C:\\Program Files\\nodejs' },
      isFile: files('C:\\Program Files\\nodejs\\node.EXE'),
    });
    expect(plan).toEqual({ file: 'C:\\Program Files\\nodejs\\node.EXE', args: ['server.js'] });
  });

  it('runs a .cmd shim through cmd.exe with quoted, escaped arguments', () => {
    const plan = spawnPlan('npx.cmd', ['-y', '@scope/pkg', 'a b&c'], {
      platform: 'win32',
      env: { PATH: 'C:\\npm', ComSpec: 'C:\\Windows\\system32\\cmd.exe' },
      isFile: files('C:\\npm\\npx.cmd'),
    });
    expect(plan).toEqual({
      file: 'C:\\Windows\\system32\\cmd.exe',
      args: ['/d', '/s', '/c', '"C:\\npm\\npx.cmd ^"-y^" ^"@scope/pkg^" ^"a^ b^&c^""'],
      windowsVerbatimArguments: true,
    });
  });

  it('finds a shim by bare name through PATHEXT, as cross-spawn did', () => {
    const plan = spawnPlan('mcp-server-x', [], {
      platform: 'win32',
      env: { PATH: 'C:\\a;C:\\Users\\u\\AppData\\Roaming\\npm', PATHEXT: '.COM;.EXE;.BAT;.CMD' },
      isFile: files('C:\\Users\\u\\AppData\\Roaming\\npm\\mcp-server-x.CMD'),
    });
    expect(plan?.args[3]).toBe('"C:\\Users\\u\\AppData\\Roaming\\npm\\mcp-server-x.CMD"');
  });

  it('reports a command Windows would not find as missing', () => {
    expect(spawnPlan('nope', [], { platform: 'win32', env: { PATH: 'C:\\a' }, isFile: () => false })).toBeUndefined();
  });
});

describe('escapeArgument', () => {
  it('doubles backslashes before quotes and at the end, then escapes cmd metacharacters', () => {
    expect(escapeArgument('say "hi"')).toBe('^"say^ \\^"hi\\^"^"');
    expect(escapeArgument('C:\\dir\\')).toBe('^"C:\\dir\\\\^"');
    expect(escapeArgument('%PATH%')).toBe('^"^%PATH^%^"');
  });
});
