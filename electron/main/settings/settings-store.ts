/**
 * The desktop settings file, behind one small port. The file is conf's (JSON Schema checked,
 * defaults filled in, each write atomic through `atomically`: a temp file beside it, fsync, rename).
 * In the app electron-store opens it (electron-settings.ts, the only file importing it); Node tests
 * open plain conf. Either way the file is `desktop-settings.json` in the data folder, where the
 * app's own store of earlier versions kept it, in the same shape: saved settings carry over as is.
 */
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import Conf, { type Schema } from 'conf';
import { z } from 'zod';
import type { DesktopSettings } from '../../../src/api/contract.js';
import { describeError, fileSystemError, GatewayError } from '../../../src/index.js';
import { desktopSettingsSchema } from './settings.js';

const CONFIG_NAME = 'desktop-settings';
export const SETTINGS_FILE_NAME = `${CONFIG_NAME}.json`;

/** The settings as conf stores them (a type literal, which conf's `Record<string, unknown>` bound takes). */
export type StoredSettings = { [K in keyof DesktopSettings]: DesktopSettings[K] };

/** What the rest of electron/ sees: the settings, and a change that is saved before it is answered. */
export interface DesktopSettingsStore {
  readonly path: string;
  get(): DesktopSettings;
  /** Validates the merged result as a whole; a bad change is refused naming the field, the file untouched. */
  update(change: Partial<DesktopSettings>): Promise<DesktopSettings>;
}

/** How the settings file opens: everything conf needs, and nothing electron-store would refuse. */
export interface SettingsFileOptions {
  cwd: string;
  configName: string;
  schema: Schema<StoredSettings>;
  rootSchema: { additionalProperties: false };
  defaults: StoredSettings;
  configFileMode: number;
}
export type OpenSettingsFile = (options: SettingsFileOptions) => Conf<StoredSettings>;

/** Plain conf, headless: tests and anything outside Electron. */
export const openConfFile: OpenSettingsFile = (options) => new Conf<StoredSettings>(options);

// One source for the schema and the defaults: the zod schema in settings.ts, as JSON Schema for conf
// (its `properties`, one per setting; zod types them as a plain record).
const jsonSchema = z.toJSONSchema(desktopSettingsSchema, { io: 'input' });
const properties = jsonSchema.properties as unknown as Schema<StoredSettings>;
const DEFAULTS: StoredSettings = desktopSettingsSchema.parse({});

export interface OpenDesktopSettingsOptions {
  /** The data folder (Electron's userData). */
  dir: string;
  /** electron-store in the app; plain conf when absent. */
  open?: OpenSettingsFile;
  /** A file that could not be used was set aside (renamed, not deleted) and defaults apply. */
  onSetAside?: (message: string) => void;
  now?: () => number;
}

/**
 * Opens the settings. A missing file is created with the defaults; an unreadable or invalid one is
 * renamed to `<name>.invalid-<time>` so the app still starts and the user's file is kept for a look.
 */
export function openDesktopSettings(options: OpenDesktopSettingsOptions): DesktopSettingsStore {
  const open = options.open ?? openConfFile;
  const path = join(options.dir, SETTINGS_FILE_NAME);
  const fileOptions: SettingsFileOptions = {
    cwd: options.dir,
    configName: CONFIG_NAME,
    schema: properties,
    rootSchema: { additionalProperties: false },
    defaults: DEFAULTS,
    // The settings are the user's alone, like everything else in the data folder.
    configFileMode: 0o600,
  };
  const openFile = () => {
    try {
      return open(fileOptions);
    } catch (error) {
      // A full disk or a folder we may not write: the user must act, so say which file.
      throw fileSystemError(error, path);
    }
  };
  let file: Conf<StoredSettings>;
  try {
    file = openFile();
  } catch (error) {
    if (isErrno(error) || error instanceof GatewayError) throw error;
    // conf refuses a file that is not JSON or breaks the schema: keep it aside, start from the defaults.
    const aside = `${path}.invalid-${(options.now ?? Date.now)()}`;
    try {
      renameSync(path, aside);
    } catch (renameError) {
      throw fileSystemError(renameError, path);
    }
    options.onSetAside?.(`${path}: ${describeError(error)}; kept as ${aside}, using the defaults`);
    file = openFile();
  }
  // Read once: conf rereads the file on every access, and the app is its only writer.
  let current: DesktopSettings = desktopSettingsSchema.parse(file.store);
  return {
    path,
    get: () => current,
    async update(change) {
      const parsed = desktopSettingsSchema.safeParse({ ...current, ...change });
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.path.map(String).join('.') || 'settings';
        throw new GatewayError('invalid_argument', `${field}: ${issue.message}`, { field });
      }
      try {
        file.store = parsed.data;
      } catch (error) {
        throw fileSystemError(error, path);
      }
      // Only once the file holds it: a failed write (a full disk) leaves the settings as they were.
      current = parsed.data;
      return current;
    },
  };
}

function isErrno(error: unknown): error is NodeJS.ErrnoException {
  return typeof (error as NodeJS.ErrnoException | undefined)?.code === 'string';
}
