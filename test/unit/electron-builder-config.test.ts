import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../helpers/gateway.js';

interface Target {
  target: string;
  arch: string[];
}

// The Electron binary cannot be downloaded here, so `npm run dist` never runs in CI; this keeps the
// packaging configuration honest instead.
const config = parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as {
  appId: string;
  productName: string;
  files: string[];
  asarUnpack: string[];
  mac: { icon: string; target: Target[] };
  win: { icon: string; target: Target[] };
  linux: { icon: string; target: Target[] };
  extraResources: Array<{ from: string; to: string }>;
};
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  scripts: Record<string, string>;
};

/** Every `icon:` value anywhere in the file, so a newly added platform's icon is checked too. */
function iconsIn(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(iconsIn);
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'icon' && typeof value === 'string' ? [value] : iconsIn(value),
  );
}

describe('electron-builder.yml', () => {
  it('names the app', () => {
    expect(config.appId).toBe('dev.cortex.gateway');
    expect(config.productName).toBe('Cortex Gateway');
  });

  it('builds a dmg for arm64 and x64, an nsis installer and an AppImage', () => {
    expect(config.mac.target).toEqual([{ target: 'dmg', arch: ['arm64', 'x64'] }]);
    expect(config.win.target.map((t) => t.target)).toEqual(['nsis']);
    expect(config.linux.target.map((t) => t.target)).toEqual(['AppImage']);
  });

  it('points at icons that exist', () => {
    const icons = iconsIn(config);
    expect(icons.length).toBeGreaterThanOrEqual(3);
    for (const icon of icons) expect(existsSync(join(ROOT, icon)), icon).toBe(true);
  });

  it('ships the tray images main.ts loads, in every state and at 1x and 2x', () => {
    expect(config.extraResources).toContainEqual({ from: 'resources/tray', to: 'tray' });
    for (const state of ['ok', 'warn', 'error']) {
      for (const file of [`${state}.png`, `${state}@2x.png`]) {
        expect(existsSync(join(ROOT, 'resources/tray', file)), file).toBe(true);
      }
    }
  });

  it('ships the built main process that package.json names', () => {
    expect(pkg.main).toBe('dist/electron/main/main.js');
    expect(config.files).toContain('dist/**');
    expect(pkg.scripts['build:electron']).toContain('--outfile=dist/electron/main/main.js');
    expect(pkg.scripts.dist).toContain('electron-builder --config electron-builder.yml');
  });

  it('ships the CLI bundle as a plain file, for the cortex-gateway launcher to run outside the archive', () => {
    expect(pkg.scripts['build:core']).toContain('--outfile=dist/cortex-gateway.mjs');
    expect(pkg.scripts.build).toContain('npm run build:core');
    expect(config.asarUnpack).toContain('dist/cortex-gateway.mjs');
  });
});
