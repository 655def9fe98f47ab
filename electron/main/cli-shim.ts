// The `cortex-gateway` command for desktop users: a small launcher in a user bin folder that runs the
// CLI bundled in the app with the app's own runtime (ELECTRON_RUN_AS_NODE), so nothing else need be
// installed. Plain Node, no electron import: main.ts calls it, tests run it.
import { mkdir, readFile } from 'node:fs/promises';
import { posix, win32 } from 'node:path';
import { CLI_NAME, isOnPath, resolveCliCommand, SHIM_MARKER, shellWord, shimPath } from '../../src/cli/command-name.js';
import { describeError } from '../../src/shared/errors.js';
import type { Logger } from '../../src/shared/logger.js';
import { writeFileAtomic } from '../../src/store/atomic.js';

export interface CliShimOptions {
  /** The app's executable (the AppImage file on Linux, whose mount point changes every launch). */
  executable: string;
  /** The CLI bundle it runs: a real file, not inside app.asar. */
  script: string;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  home: string;
}

export interface CliShimResult {
  path: string;
  /** `written` (new or updated), `unchanged`, or `foreign`: a file we did not write is there, left alone. */
  outcome: 'written' | 'unchanged' | 'foreign';
  /** Whether the launcher's folder is on PATH, so `cortex-gateway` alone runs it. */
  onPath: boolean;
}

/** The launcher's text: POSIX sh, or a Windows batch file. */
export function shimText(options: Pick<CliShimOptions, 'executable' | 'script' | 'platform'>): string {
  if (options.platform === 'win32') {
    // In a batch file % starts a variable: a literal one is doubled. setlocal keeps the variable in here.
    const quoted = (path: string) => `"${path.replace(/%/g, '%%')}"`;
    return [
      '@echo off',
      `rem ${SHIM_MARKER}; the app rewrites it when it starts. Safe to delete.`,
      'setlocal',
      'set "ELECTRON_RUN_AS_NODE=1"',
      `${quoted(options.executable)} ${quoted(options.script)} %*`,
      '',
    ].join('\r\n');
  }
  return [
    '#!/bin/sh',
    `# ${SHIM_MARKER}; the app rewrites it when it starts. Safe to delete.`,
    `ELECTRON_RUN_AS_NODE=1 exec ${shellWord(options.executable, 'linux')} ${shellWord(options.script, 'linux')} "$@"`,
    '',
  ].join('\n');
}

/**
 * Writes the launcher if the place is free or holds our own launcher (recognised by SHIM_MARKER),
 * atomically; never replaces anything else. Says where, and whether that folder is on PATH.
 */
export async function installCliShim(options: CliShimOptions): Promise<CliShimResult> {
  const path = shimPath(options);
  const dir = (options.platform === 'win32' ? win32 : posix).dirname(path);
  const onPath = isOnPath(dir, options);
  const text = shimText(options);
  let existing: string | undefined;
  try {
    existing = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A dangling link or a folder in the way is someone else's too: only a missing file is free.
    if (code !== 'ENOENT') return { path, outcome: 'foreign', onPath };
  }
  if (existing === text) return { path, outcome: 'unchanged', onPath };
  if (existing !== undefined && !existing.includes(SHIM_MARKER)) return { path, outcome: 'foreign', onPath };
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(path, text, 0o755);
  return { path, outcome: 'written', onPath };
}

/**
 * An AppImage runs from a mount point that changes every launch, so the launcher cannot name the
 * bundle inside it: this keeps a copy at a stable place (`~/.local/share/cortex-gateway/`), replaced
 * atomically when it differs. Returns the copy's path.
 */
export async function stableCliCopy(
  bundle: string,
  options: { env: NodeJS.ProcessEnv; home: string },
): Promise<string> {
  const dataHome = options.env.XDG_DATA_HOME || posix.join(options.home, '.local', 'share');
  const target = posix.join(dataHome, CLI_NAME, 'cortex-gateway.mjs');
  const [current, wanted] = await Promise.all([readFile(target).catch(() => undefined), readFile(bundle)]);
  if (current?.equals(wanted)) return target;
  await mkdir(posix.dirname(target), { recursive: true });
  // A rename over the old copy: a launcher running it right now keeps reading the old file.
  await writeFileAtomic(target, wanted, 0o644);
  return target;
}

/**
 * On app start: installs the launcher (packaged app only: a development run must not write into the
 * user's bin folder) and answers the CLI spelling the console prints.
 */
export async function setUpCliCommand(options: {
  packaged: boolean;
  /** The CLI bundle: `app.asar.unpacked/dist/cortex-gateway.mjs` packaged, `dist/` of the checkout otherwise. */
  bundle: string;
  executable: string;
  /** The AppImage file when the app runs from one (`$APPIMAGE`). */
  appImage?: string;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  home: string;
  logger: Logger;
}): Promise<string> {
  const context = { platform: options.platform, env: options.env, home: options.home };
  if (!options.packaged) return resolveCliCommand({ ...context, entry: options.bundle });
  const executable = options.appImage ?? options.executable;
  let script = options.bundle;
  try {
    if (options.appImage) script = await stableCliCopy(options.bundle, context);
    const shim = await installCliShim({ ...context, executable, script });
    if (shim.outcome === 'foreign') {
      options.logger.warn('cortex-gateway launcher not installed: another file is there', { path: shim.path });
    } else if (shim.outcome === 'written') {
      options.logger.info('cortex-gateway launcher installed', { path: shim.path, onPath: shim.onPath });
    }
  } catch (error) {
    options.logger.warn('cortex-gateway launcher not installed', { error: describeError(error) });
  }
  return resolveCliCommand({ ...context, entry: script, executable });
}
