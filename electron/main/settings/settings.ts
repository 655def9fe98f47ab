// The desktop app's own preferences and how they map onto the gateway and the OS. Pure (types only
// from electron), so Node tests cover the mapping; desktop.ts applies it. The file: settings-store.ts.
import { join } from 'node:path';
import type { Settings as LoginItemSettings } from 'electron';
import { z } from 'zod';
import type { DesktopSettings } from '../../../src/api/contract.js';
import type { LogLevel } from '../../../src/index.js';

export const LOG_FILE_NAME = 'cortex-gateway.log';
/** Passed to the app when the OS starts it at login: it then stays in the tray. */
export const LAUNCHED_AT_LOGIN_ARG = '--launched-at-login';

/** Defaults live here only (settings-store.ts hands them to conf, with this schema as JSON Schema). */
export const desktopSettingsSchema = z
  .object({
    startAtLogin: z.boolean().default(false),
    openConsoleAtLaunch: z.boolean().default(true),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  })
  .strict() satisfies z.ZodType<DesktopSettings, unknown>;

/** A change as the console sends it over IPC: some fields, nothing else. */
export const desktopSettingsChangeSchema = z
  .object({
    startAtLogin: z.boolean(),
    openConsoleAtLaunch: z.boolean(),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']),
  })
  .partial()
  .strict();

export interface GatewayRunOptions {
  logLevel: LogLevel;
  logFile: string;
  /** Whether a busy port moves on to the next one (only for the default port). */
  portFallback: boolean;
}

/** What the settings mean for the gateway main.ts creates. */
export function settingsToGatewayOptions(
  settings: DesktopSettings,
  context: { logsDir: string; explicitPort: boolean },
): GatewayRunOptions {
  return {
    logLevel: settings.logLevel,
    logFile: join(context.logsDir, LOG_FILE_NAME),
    portFallback: !context.explicitPort,
  };
}

/**
 * Start at login for app.setLoginItemSettings (macOS, Windows). The extra argument tells the app
 * it was started by the OS, so it opens no window; Windows needs the executable named explicitly.
 */
export function loginItemSettings(
  settings: Pick<DesktopSettings, 'startAtLogin'>,
  context: { platform: NodeJS.Platform; execPath: string },
): LoginItemSettings {
  if (context.platform === 'win32') {
    return { openAtLogin: settings.startAtLogin, path: context.execPath, args: [LAUNCHED_AT_LOGIN_ARG] };
  }
  return { openAtLogin: settings.startAtLogin, args: [LAUNCHED_AT_LOGIN_ARG] };
}

/**
 * Linux has no setLoginItemSettings: desktops start what `~/.config/autostart/*.desktop` lists
 * (XDG Autostart). The entry's content when starting at login, or undefined to remove it.
 */
export function linuxAutostartEntry(
  settings: Pick<DesktopSettings, 'startAtLogin'>,
  execPath: string,
): string | undefined {
  if (!settings.startAtLogin) return undefined;
  // Desktop Entry Specification: arguments with spaces are quoted, and `"`, `` ` ``, `$`, `\` escaped.
  const quoted = /[\s"'`$\\]/.test(execPath) ? `"${execPath.replace(/(["`$\\])/g, '\\$1')}"` : execPath;
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Cortex Gateway',
    `Exec=${quoted} ${LAUNCHED_AT_LOGIN_ARG}`,
    'X-GNOME-Autostart-enabled=true',
    'NoDisplay=false',
    '',
  ].join('\n');
}

/** Whether this launch should open the console window. */
export function opensConsoleAtLaunch(settings: DesktopSettings, argv: readonly string[]): boolean {
  return settings.openConsoleAtLaunch && !argv.includes(LAUNCHED_AT_LOGIN_ARG);
}
