import { statSync } from 'node:fs';
import { win32 } from 'node:path';

/**
 * How to spawn a configured command. On POSIX it is spawned as written. On Windows, spawn() without
 * a shell finds only `.exe` files by bare name and refuses `.cmd`/`.bat` (since Node 20.12.2,
 * CVE-2024-27980), yet `npx`, `uvx` and every npm-installed server are `.cmd` shims. So, as the
 * cross-spawn package the SDK's transport used does: look the command up on the child's PATH with
 * PATHEXT, run an `.exe`/`.com` directly, and run anything else through `cmd.exe /d /s /c` with
 * every argument quoted and its metacharacters escaped, so arguments reach the program intact.
 */
export interface SpawnPlan {
  file: string;
  args: string[];
  /** The arguments are already one escaped command line (cmd.exe): Node must not quote them again. */
  windowsVerbatimArguments?: boolean;
}

export interface SpawnPlanOptions {
  platform: NodeJS.Platform;
  /** The child's environment: its PATH and PATHEXT decide the lookup. */
  env: Record<string, string>;
  cwd?: string;
  /** Whether a path is an existing file (tests pass a fake). */
  isFile?: (path: string) => boolean;
}

/** The plan, or undefined when Windows would not find the command (the caller reports ENOENT). */
export function spawnPlan(command: string, args: readonly string[], options: SpawnPlanOptions): SpawnPlan | undefined {
  if (options.platform !== 'win32') return { file: command, args: [...args] };
  const isFile = options.isFile ?? fileExists;
  const target = findOnPath(command, options.env, options.cwd, isFile);
  if (!target) return undefined;
  if (/\.(com|exe)$/i.test(target)) return { file: target, args: [...args] };
  // A cmd-shim in node_modules\.bin passes its arguments through cmd.exe a second time.
  const twice = /node_modules[\\/]\.bin[\\/][^\\/]+\.cmd$/i.test(target);
  const line = [escapeCommand(win32.normalize(target)), ...args.map((arg) => escapeArgument(arg, twice))].join(' ');
  const comspec = envValue(options.env, 'COMSPEC') ?? 'cmd.exe';
  return { file: comspec, args: ['/d', '/s', '/c', `"${line}"`], windowsVerbatimArguments: true };
}

function fileExists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Windows environment names are case-insensitive; a copied env object is not. */
function envValue(env: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(env).find((k) => k.toUpperCase() === name);
  return key === undefined ? undefined : env[key];
}

/** The file Windows would run for `command`: as given if it names a path, else the first PATH hit. */
function findOnPath(
  command: string,
  env: Record<string, string>,
  cwd: string | undefined,
  isFile: (path: string) => boolean,
): string | undefined {
  const extensions = (envValue(env, 'PATHEXT') ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean);
  const candidates = (base: string) => (win32.extname(base) ? [base] : []).concat(extensions.map((e) => base + e));
  if (/[\\/]/.test(command)) {
    const base = win32.resolve(cwd ?? '', command);
    return candidates(base).find(isFile);
  }
  // cmd.exe searches the current folder before PATH.
  const folders = [cwd ?? '', ...(envValue(env, 'PATH') ?? '').split(';')].filter(Boolean);
  for (const folder of folders) {
    const hit = candidates(win32.join(folder.replace(/^"(.*)"$/, '$1'), command)).find(isFile);
    if (hit) return hit;
  }
  return undefined;
}

// cmd.exe metacharacters, escaped with ^ (https://www.robvanderwoude.com/escapechars.php).
const META = /([()\][%!^"`<>&|;, *?])/g;

function escapeCommand(command: string): string {
  return command.replace(META, '^$1');
}

/**
 * Quotes one argument for the C runtime's parser (backslashes doubled before a quote and at the
 * end; https://qntm.org/cmd), then escapes it for cmd.exe.
 */
export function escapeArgument(arg: string, twice = false): string {
  let quoted = arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\*)$/, '$1$1');
  quoted = `"${quoted}"`.replace(META, '^$1');
  return twice ? quoted.replace(META, '^$1') : quoted;
}
