import { describe, expect, it } from 'vitest';
import {
  desktopSettingsSchema,
  LAUNCHED_AT_LOGIN_ARG,
  linuxAutostartEntry,
  loginItemSettings,
  opensConsoleAtLaunch,
  settingsToGatewayOptions,
} from './settings.js';

const defaults = desktopSettingsSchema.parse({});

describe('desktop settings mapping', () => {
  it('defaults to not starting at login and opening the console', () => {
    expect(defaults).toEqual({ startAtLogin: false, openConsoleAtLaunch: true, logLevel: 'info' });
  });

  it('logs at the chosen level into the log folder', () => {
    const options = settingsToGatewayOptions(
      { ...defaults, logLevel: 'debug' },
      { logsDir: '/L', explicitPort: false },
    );
    expect(options).toEqual({ logLevel: 'debug', logFile: '/L/cortex-gateway.log', portFallback: true });
  });

  it('keeps an explicitly chosen port (no fallback to the next one)', () => {
    expect(settingsToGatewayOptions(defaults, { logsDir: '/L', explicitPort: true }).portFallback).toBe(false);
  });

  it('registers the login item with the at-login flag on macOS', () => {
    expect(loginItemSettings({ startAtLogin: true }, { platform: 'darwin', execPath: '/A' })).toEqual({
      openAtLogin: true,
      args: [LAUNCHED_AT_LOGIN_ARG],
    });
  });

  it('names the executable on Windows', () => {
    expect(loginItemSettings({ startAtLogin: false }, { platform: 'win32', execPath: 'C:\\App\\c.exe' })).toEqual({
      openAtLogin: false,
      path: 'C:\\App\\c.exe',
      args: [LAUNCHED_AT_LOGIN_ARG],
    });
  });

  it('writes an XDG autostart entry on Linux, quoting a path with spaces', () => {
    const entry = linuxAutostartEntry({ startAtLogin: true }, '/opt/Cortex Gateway/cortex');
    expect(entry).toContain(`Exec="/opt/Cortex Gateway/cortex" ${LAUNCHED_AT_LOGIN_ARG}\n`);
    expect(entry?.startsWith('[Desktop Entry]\n')).toBe(true);
  });

  it('removes the Linux autostart entry when start at login is off', () => {
    expect(linuxAutostartEntry({ startAtLogin: false }, '/usr/bin/cortex')).toBeUndefined();
  });

  it('stays in the tray when started at login', () => {
    expect(opensConsoleAtLaunch(defaults, ['app', LAUNCHED_AT_LOGIN_ARG])).toBe(false);
    expect(opensConsoleAtLaunch(defaults, ['app'])).toBe(true);
    expect(opensConsoleAtLaunch({ ...defaults, openConsoleAtLaunch: false }, ['app'])).toBe(false);
  });
});
