// Owns the Electron Tray: turns the pure menu model (tray-menu.ts) into native menus and images.
import { join } from 'node:path';
import { Menu, nativeImage, Tray, type MenuItemConstructorOptions } from 'electron';
import { buildTrayMenu, trayIconState, trayTooltip, type TrayMenuItem, type TrayState } from './tray-menu.js';

export interface TrayController {
  update(state: TrayState): void;
}

export interface TrayOptions {
  /** Folder holding ok/warn/error.png (and @2x variants, which nativeImage picks on HiDPI screens). */
  imagesDir: string;
  onCommand(id: string): void;
}

export function createTray(options: TrayOptions, initial: TrayState): TrayController {
  const image = (state: TrayState) =>
    nativeImage.createFromPath(join(options.imagesDir, `${trayIconState(state)}.png`));
  const toTemplate = (items: TrayMenuItem[]): MenuItemConstructorOptions[] =>
    items.map((item) => ({
      id: item.id,
      label: item.label,
      type: item.type ?? 'normal',
      enabled: item.enabled ?? true,
      ...(item.checked === undefined ? {} : { checked: item.checked }),
      ...(item.submenu ? { submenu: toTemplate(item.submenu) } : { click: () => options.onCommand(item.id) }),
    }));
  const tray = new Tray(image(initial));
  const update = (state: TrayState) => {
    tray.setImage(image(state));
    tray.setToolTip(trayTooltip(state));
    tray.setContextMenu(Menu.buildFromTemplate(toTemplate(buildTrayMenu(state))));
  };
  update(initial);
  return { update };
}
