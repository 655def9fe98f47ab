// The desktop composition root: wires the gateway from src/ to the tray, the window and the app
// lifecycle, and nothing else. What each piece does lives in modules Node tests reach:
// app-events/ (lifecycle, start-up failure), tray/ (menu, commands, gateway events), ipc/, settings/.
import { homedir } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, clipboard, dialog, Notification } from 'electron';
import {
  createConsoleLogger,
  createGateway,
  defaultDataDir,
  loadConfig,
  startGatewayInstance,
  VERSION,
  type Gateway,
  type GatewayInstance,
  type Logger,
} from '../../src/index.js';
import { wireAppLifecycle } from './app-events/app-events.js';
import { startupFailureDialog } from './app-events/startup-dialog.js';
import { setUpCliCommand } from './cli-shim.js';
import { createConsoleWindow } from './console-window.js';
import { setUpDesktop, type Desktop } from './desktop.js';
import { followGatewayEvents } from './tray/gateway-events.js';
import { createTray } from './tray/tray.js';
import { claudeDesktopState, createTrayCommands } from './tray/tray-commands.js';
import type { TrayState } from './tray/tray-menu.js';

// Bundled to dist/electron/main/main.js: dist/renderer and dist/electron/preload sit nearby, and
// resources/ beside dist/ in development (extraResources when packaged).
const here = dirname(fileURLToPath(import.meta.url));
const resources = app.isPackaged ? process.resourcesPath : join(here, '../../../resources');
// One data folder for the app and the CLI (`cortex-gateway token`, `import`… find the running app
// through it): Electron's default is the same on macOS and Windows, but not on Linux, and ignores
// CORTEX_DATA_DIR. Set before the app is ready, as Electron requires.
app.setPath('userData', defaultDataDir());
// Standard error until the log file in the app's log folder is open (setUpDesktop).
let logger: Logger = createConsoleLogger({ level: 'info' });
let gateway: Gateway | undefined;
let desktop: Desktop | undefined;
let instance: GatewayInstance | undefined;
let state: TrayState = { gateway: 'stopped', backends: [] };
let openConsole: (page?: string) => void = () => {};

const primary = wireAppLifecycle(app, {
  secondInstance: () => openConsole(),
  stop: () => instance?.stop(),
  logger: () => logger,
});

async function main(): Promise<void> {
  await app.whenReady();
  const window = createConsoleWindow({ preload: join(here, '../preload/preload.cjs'), version: VERSION });
  // The window signs in with a fresh one-time link, like the browser does headless.
  openConsole = (page) =>
    window.show(gateway?.address ? gateway.consoleLoginUrl() + (page ? `#/${page}` : '') : undefined, Boolean(page));
  const notify = (title: string, body: string) => {
    if (Notification.isSupported()) new Notification({ title, body }).show();
  };
  const onCommand = createTrayCommands({
    gateway: () => gateway,
    openConsole,
    copyText: (text) => clipboard.writeText(text),
    quit: () => app.quit(),
    toggleStartAtLogin: async () => void (await desktop?.setStartAtLogin(!desktop.settings().startAtLogin)),
    notify,
    show: (next) => show(next),
    logger: () => logger,
    connectClient: (client) => gateway!.api.connectClient(client),
  });
  const tray = createTray({ imagesDir: join(resources, 'tray'), onCommand: (id) => void onCommand(id) }, state);
  const show = (next: Partial<TrayState>) => tray.update((state = { ...state, ...next }));

  const loaded = await loadConfig({ dataDir: app.getPath('userData'), createIfMissing: true });
  await mkdir(loaded.dataDir, { recursive: true, mode: 0o700 });
  // The data folder's lock comes first (shared with `cortex-gateway serve`): when a gateway already
  // serves it, nothing below runs and main().catch shows who holds it.
  instance = await startGatewayInstance({
    dataDir: loaded.dataDir,
    app: 'desktop',
    logger,
    create: async (lock) => {
      desktop = await setUpDesktop({
        explicitPort: loaded.explicitPort,
        gatewayOrigin: () => gateway?.address?.origin,
        onChange: (settings) => show({ startAtLogin: settings.startAtLogin }),
      });
      logger = desktop.logger;
      if (lock.replaced) logger.warn('took over a stale gateway lock', { reason: lock.replaced.reason });
      show({ startAtLogin: desktop.settings().startAtLogin });
      // `cortex-gateway` in a terminal: a launcher for the CLI bundled here (asarUnpack: a real file).
      const cliCommand = await setUpCliCommand({
        packaged: app.isPackaged,
        bundle: app.isPackaged
          ? join(process.resourcesPath, 'app.asar.unpacked', 'dist', 'cortex-gateway.mjs')
          : join(here, '../../cortex-gateway.mjs'),
        executable: process.execPath,
        ...(process.env.APPIMAGE ? { appImage: process.env.APPIMAGE } : {}),
        platform: process.platform,
        env: process.env,
        home: homedir(),
        logger: logger.child({ component: 'cli-launcher' }),
      });
      const created = createGateway(loaded.config, {
        logger,
        secretStore: desktop.secretStore,
        logLocation: desktop.logsDir,
        env: process.env,
        dataDir: loaded.dataDir,
        configPath: loaded.configPath,
        consoleDir: join(here, '../../renderer'),
        portFallback: desktop.portFallback,
        cliCommand,
      });
      gateway = created;
      followGatewayEvents(created, {
        notify,
        show,
        current: () => state,
        pendingApprovals: () => created.authorizationServer?.pendingConsents().length ?? 0,
      });
      return created;
    },
  });
  const { mcpUrl } = instance.address;
  void claudeDesktopState(mcpUrl).then(
    (claudeDesktop) => show({ claudeDesktop }),
    () => {},
  );
  show({ gateway: 'running', mcpUrl, backends: instance.gateway.backendStatuses() });
  if (desktop?.opensConsole) openConsole();
}

if (primary) {
  main().catch((error: unknown) => {
    // A bad config, a busy port, a gateway already serving the data folder: say so plainly rather
    // than sit in the tray doing nothing.
    const message = startupFailureDialog(error);
    dialog.showErrorBox(message.title, [message.message, message.detail].filter(Boolean).join('\n\n'));
    app.exit(1);
  });
}
