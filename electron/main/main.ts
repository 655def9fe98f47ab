// The desktop composition root: wires the gateway from src/ to Electron's tray, window and
// lifecycle. Logic lives in plain modules (tray-menu.ts, src/) that Node tests reach.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, clipboard, Menu, nativeImage, shell, Tray } from 'electron';
import { loadConfig } from '../../src/config/load.js';
import { createGateway, type Gateway } from '../../src/index.js';
import { createConsoleLogger } from '../../src/shared/logger.js';
import { buildTrayMenu, trayIconState, trayTooltip, type TrayMenuItem, type TrayState } from './tray-menu.js';

// Bundled to dist/electron/main/main.js; resources/ sits beside dist/ in development.
const here = dirname(fileURLToPath(import.meta.url));
const resources = app.isPackaged ? process.resourcesPath : join(here, '../../../resources');
let gateway: Gateway | undefined;
let tray: Tray | undefined;
let window: BrowserWindow | undefined;
let state: TrayState = { gateway: 'stopped', backends: [] };

function toTemplate(items: TrayMenuItem[]): Electron.MenuItemConstructorOptions[] {
  return items.map((item) => ({
    id: item.id,
    label: item.label,
    type: item.type ?? 'normal',
    enabled: item.enabled ?? true,
    ...(item.submenu ? { submenu: toTemplate(item.submenu) } : {}),
    click: () => void onMenu(item.id),
  }));
}

function refreshTray(): void {
  if (!tray) return;
  tray.setImage(nativeImage.createFromPath(join(resources, 'tray', `${trayIconState(state)}.png`)));
  tray.setToolTip(trayTooltip(state));
  tray.setContextMenu(Menu.buildFromTemplate(toTemplate(buildTrayMenu(state))));
}

async function onMenu(id: string): Promise<void> {
  if (id === 'quit') app.quit();
  else if (id === 'copy-url' && state.mcpUrl) clipboard.writeText(state.mcpUrl);
  else if (id === 'open') openConsole();
  else if (id.startsWith('restart:')) await gateway?.restartBackend(id.slice('restart:'.length));
}

function openConsole(): void {
  if (window && !window.isDestroyed()) return window.focus();
  window = new BrowserWindow({
    width: 1100,
    height: 760,
    title: 'Cortex Gateway',
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      preload: join(here, '../preload/preload.cjs'),
    },
  });
  // Links open in the user's browser, never inside the privileged window.
  window.webContents.setWindowOpenHandler(({ url }) => (void shell.openExternal(url), { action: 'deny' }));
  if (gateway?.address) void window.loadURL(gateway.address.consoleUrl);
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) return app.quit();
  app.on('second-instance', openConsole);
  await app.whenReady();
  tray = new Tray(nativeImage.createFromPath(join(resources, 'tray', 'error.png')));
  refreshTray();
  const { config } = await loadConfig({ dataDir: app.getPath('userData'), createIfMissing: true });
  gateway = createGateway(config, { logger: createConsoleLogger({ level: 'info' }), portFallback: true });
  gateway.events.on('backend-state', () => {
    state = { ...state, backends: gateway?.backendStatuses() ?? [] };
    refreshTray();
  });
  const address = await gateway.start();
  state = { gateway: 'running', mcpUrl: address.mcpUrl, backends: gateway.backendStatuses() };
  refreshTray();
  app.on('window-all-closed', () => {
    // A tray app keeps running with no window open.
  });
  let stopped = false;
  app.on('before-quit', (event) => {
    if (stopped || !gateway) return;
    event.preventDefault();
    void gateway.stop().finally(() => {
      stopped = true;
      app.quit();
    });
  });
}

void main();
