// Desktop facilities main.ts hands to the gateway and the console window: preferences, the log
// file, the secret store over safeStorage, start at login, and the preload bridge's handlers. The
// decisions live in pure modules (settings/, ipc/, secrets.ts); this file applies them.
import { mkdir, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { app, safeStorage, shell } from 'electron';
import type { DesktopSettings } from '../../src/api/contract.js';
import { createFileLogger, VERSION, writeFileAtomic, type FileLogger, type SecretStore } from '../../src/index.js';
import { createIpcHandlers } from './ipc/ipc-handlers.js';
import { registerIpc } from './ipc/ipc.js';
import { openDesktopSecretStore } from './secrets.js';
import { openElectronSettingsFile } from './settings/electron-settings.js';
import {
  linuxAutostartEntry,
  loginItemSettings,
  opensConsoleAtLaunch,
  settingsToGatewayOptions,
} from './settings/settings.js';
import { openDesktopSettings } from './settings/settings-store.js';

export interface Desktop {
  logger: FileLogger;
  logsDir: string;
  secretStore: SecretStore;
  settings: () => DesktopSettings;
  /** Whether a busy default port moves on to the next one. */
  portFallback: boolean;
  /** Whether this launch opens the console window (not when the OS started the app at login). */
  opensConsole: boolean;
  setStartAtLogin(enabled: boolean): Promise<void>;
}

/** Call once the app is ready. `gatewayOrigin` is where the console page the bridge serves comes from. */
export async function setUpDesktop(options: {
  explicitPort: boolean;
  gatewayOrigin: () => string | undefined;
  /** After a saved change, from the console or the tray (the tray shows start at login). */
  onChange?: (settings: DesktopSettings) => void;
}): Promise<Desktop> {
  const userData = app.getPath('userData');
  const logsDir = app.getPath('logs');
  const setAside: string[] = [];
  const settings = openDesktopSettings({
    dir: userData,
    open: openElectronSettingsFile,
    onSetAside: (message) => setAside.push(message),
  });
  const run = settingsToGatewayOptions(settings.get(), { logsDir, explicitPort: options.explicitPort });
  const logger = createFileLogger({ path: run.logFile, level: run.logLevel });
  for (const message of setAside) logger.warn('desktop settings file set aside', { message });
  const secretStore = await openDesktopSecretStore({
    userData,
    safeStorage,
    platform: process.platform,
    logger: logger.child({ component: 'secrets' }),
  });

  const applyLoginItem = async (next: Pick<DesktopSettings, 'startAtLogin'>) => {
    if (process.platform === 'linux') {
      const path = join(homedir(), '.config', 'autostart', 'cortex-gateway.desktop');
      const entry = linuxAutostartEntry(next, process.env.APPIMAGE ?? process.execPath);
      if (entry) {
        await mkdir(dirname(path), { recursive: true });
        await writeFileAtomic(path, entry, 0o644);
      } else await rm(path, { force: true });
      return;
    }
    app.setLoginItemSettings(loginItemSettings(next, { platform: process.platform, execPath: process.execPath }));
  };
  const applySettings = async (next: DesktopSettings, previous: DesktopSettings) => {
    if (next.startAtLogin !== previous.startAtLogin) await applyLoginItem(next);
    options.onChange?.(next);
  };
  // The app may have moved since the login item was written (an update, a new AppImage): refresh it.
  if (settings.get().startAtLogin && app.isPackaged) await applyLoginItem(settings.get());

  registerIpc(
    createIpcHandlers({
      settings,
      applySettings,
      platform: () => ({ platform: process.platform, version: VERSION, dataDir: userData, logsDir }),
      openLogs: async () => {
        const failure = await shell.openPath(logsDir);
        if (failure) throw new Error(failure);
      },
      logger: logger.child({ component: 'ipc' }),
    }),
    options.gatewayOrigin,
  );

  return {
    logger,
    logsDir,
    secretStore,
    settings: () => settings.get(),
    portFallback: run.portFallback,
    opensConsole: opensConsoleAtLaunch(settings.get(), process.argv),
    async setStartAtLogin(enabled) {
      const previous = settings.get();
      await applySettings(await settings.update({ startAtLogin: enabled }), previous);
    },
  };
}
