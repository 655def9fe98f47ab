/**
 * How the owner types the CLI on this machine. The banner, the sign-in pages and the console all print
 * commands (`… login`, `… token create`); each must work as typed, and there are several ways the CLI
 * can be there: the desktop app's launcher (`~/.local/bin/cortex-gateway`), a global npm install or
 * `npm link` (`cortex-gateway` on PATH), or only the bundle in a clone (`node …/dist/cortex-gateway.mjs`).
 * Only a `cortex-gateway` found first on PATH that is this very CLI is printed bare: another program of
 * that name would run instead.
 */
import { constants } from 'node:fs';
import { access, readFile, realpath } from 'node:fs/promises';
import { posix, win32 } from 'node:path';

export const CLI_NAME = 'cortex-gateway';
/** The npm package the CLI ships in (package.json `name`). */
const PACKAGE_NAME = 'cortex-gateway-desktop';
/** Marks a launcher the desktop app wrote: the app may replace such a file, never any other. */
export const SHIM_MARKER = 'cortex-gateway launcher written by the Cortex Gateway app';

export interface CliCommandContext {
  /** The CLI file being run: the bundle (`dist/cortex-gateway.mjs`), or `src/cli/main.ts` under tsx. */
  entry: string;
  /** What runs `entry` when it is not Node.js: the desktop app's executable (as ELECTRON_RUN_AS_NODE). */
  executable?: string;
  platform: NodeJS.Platform;
  /** PATH (and PATHEXT on Windows), LOCALAPPDATA for the Windows launcher. */
  env: NodeJS.ProcessEnv;
  /** The user's home folder: where the launcher goes, and shortened to `~` in what is printed. */
  home: string;
}

/** Where the desktop app puts its launcher: a user bin folder, on PATH on most Linux desktops. */
export function shimPath(context: Pick<CliCommandContext, 'platform' | 'env' | 'home'>): string {
  if (context.platform === 'win32') {
    // Not on PATH by default: the console then prints it by its full path, which works as typed.
    const local = context.env.LOCALAPPDATA ?? win32.join(context.home, 'AppData', 'Local');
    return win32.join(local, CLI_NAME, 'bin', `${CLI_NAME}.cmd`);
  }
  return posix.join(context.home, '.local', 'bin', CLI_NAME);
}

const pathOf = (platform: NodeJS.Platform) => (platform === 'win32' ? win32 : posix);

/** Whether `dir` is one of PATH's folders (case-insensitively on Windows). */
export function isOnPath(dir: string, context: Pick<CliCommandContext, 'platform' | 'env'>): boolean {
  const windows = context.platform === 'win32';
  const key = (path: string) => {
    const trimmed = pathOf(context.platform)
      .normalize(path)
      .replace(/[\\/]+$/, '');
    return windows ? trimmed.toLowerCase() : trimmed;
  };
  return pathDirs(context).some((entry) => key(entry) === key(dir));
}

function pathDirs(context: Pick<CliCommandContext, 'platform' | 'env'>): string[] {
  // Windows spells it Path; an environment copied into a plain object keeps that spelling.
  const raw = context.env.PATH ?? context.env.Path ?? '';
  return raw.split(context.platform === 'win32' ? ';' : ':').filter((dir) => dir.length > 0);
}

/** The file a shell runs for `cortex-gateway`: the first match along PATH. */
async function firstOnPath(context: CliCommandContext): Promise<string | undefined> {
  const windows = context.platform === 'win32';
  const extensions = windows ? (context.env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean) : [''];
  for (const dir of pathDirs(context)) {
    for (const extension of extensions) {
      const candidate = pathOf(context.platform).join(dir, CLI_NAME + extension.toLowerCase());
      try {
        await access(candidate, windows ? constants.F_OK : constants.X_OK);
        return candidate;
      } catch {
        // Not here: the shell looks further along PATH, and so do we.
      }
    }
  }
  return undefined;
}

const sameFile = async (a: string, b: string) => {
  try {
    return (await realpath(a)) === (await realpath(b));
  } catch {
    return false;
  }
};

/**
 * Whether running `file` runs this CLI: a link to it (`npm link`, a global install), npm's Windows
 * `.cmd` beside the package it installed, or the desktop app's launcher naming it.
 */
async function runsThisCli(file: string, context: CliCommandContext): Promise<boolean> {
  if (await sameFile(file, context.entry)) return true;
  const { join, dirname } = pathOf(context.platform);
  if (await sameFile(join(dirname(file), 'node_modules', PACKAGE_NAME, 'dist', 'cortex-gateway.mjs'), context.entry)) {
    return true;
  }
  try {
    const head = (await readFile(file, 'utf8')).slice(0, 4096);
    return head.includes(SHIM_MARKER) && head.includes(context.entry);
  } catch {
    return false;
  }
}

/** A word as a shell reads it back unchanged: POSIX sh, or cmd.exe and PowerShell arguments. */
export function shellWord(word: string, platform: NodeJS.Platform): string {
  if (platform === 'win32') return /^[\w@+=:,.\\/-]+$/.test(word) ? word : `"${word}"`;
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A path as typed: under the home folder as `~/…` on POSIX shells (which expand an unquoted `~/`). */
function pathWord(path: string, context: CliCommandContext): string {
  if (context.platform !== 'win32') {
    const home = context.home.replace(/\/+$/, '');
    if (home && path.startsWith(home + '/')) return `~/${shellWord(path.slice(home.length + 1), context.platform)}`;
  }
  return shellWord(path, context.platform);
}

/**
 * The command that runs this CLI here, as typed from any folder: `cortex-gateway` when that is what
 * PATH finds, else the desktop app's launcher by its path, else Node.js on the CLI file.
 */
export async function resolveCliCommand(context: CliCommandContext): Promise<string> {
  const found = await firstOnPath(context);
  if (found && (await runsThisCli(found, context))) return CLI_NAME;
  const shim = shimPath(context);
  if (await runsThisCli(shim, context)) return pathWord(shim, context);
  const entry = pathWord(context.entry, context);
  if (context.entry.endsWith('.ts')) return `node --import tsx ${entry}`;
  if (context.executable && !/^node(\.exe)?$/i.test(pathOf(context.platform).basename(context.executable))) {
    const app = pathWord(context.executable, context);
    return context.platform === 'win32'
      ? `set "ELECTRON_RUN_AS_NODE=1" && ${app} ${entry}`
      : `ELECTRON_RUN_AS_NODE=1 ${app} ${entry}`;
  }
  return `node ${entry}`;
}
