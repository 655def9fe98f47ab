import { join } from 'node:path';

/**
 * GUI-launched apps (Electron from Finder or the Start menu) get a bare PATH that misses Homebrew,
 * nvm, volta and friends, so `npx` is "not found" although it works in the user's terminal.
 * These are the usual places; existing entries keep their order and precedence.
 */
export function enrichedPath(
  currentPath: string | undefined,
  platform: NodeJS.Platform,
  home: string,
  env: NodeJS.ProcessEnv = {},
): string {
  const sep = platform === 'win32' ? ';' : ':';
  const parts = (currentPath ?? '').split(sep).filter(Boolean);
  const extra: string[] = [];
  const pathJoin = (...segments: string[]) =>
    platform === 'win32' ? segments.join('\\').replace(/\\+/g, '\\') : join(...segments);
  if (platform === 'darwin') {
    extra.push('/opt/homebrew/bin', '/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin');
  } else if (platform !== 'win32') {
    extra.push('/usr/local/bin', '/usr/bin', '/bin');
  }
  if (platform === 'win32') {
    if (env.ProgramFiles) extra.push(pathJoin(env.ProgramFiles, 'nodejs'));
    if (env.APPDATA) extra.push(pathJoin(env.APPDATA, 'npm'));
    if (env.LOCALAPPDATA) extra.push(pathJoin(env.LOCALAPPDATA, 'Volta', 'bin'));
  } else {
    extra.push(pathJoin(home, '.volta', 'bin'), pathJoin(home, '.local', 'bin'), pathJoin(home, '.bun', 'bin'));
    if (env.NVM_BIN) extra.push(env.NVM_BIN);
  }
  for (const dir of extra) if (!parts.includes(dir)) parts.push(dir);
  return parts.join(sep);
}

const WINDOWS_SHIMS = new Set(['npx', 'npm', 'pnpm', 'pnpx', 'yarn', 'bunx', 'corepack']);

/** On Windows, node's package runners are `.cmd` shims that spawn() without a shell cannot find by bare name. */
export function resolveCommand(command: string, platform: NodeJS.Platform): string {
  if (platform === 'win32' && WINDOWS_SHIMS.has(command.toLowerCase())) return `${command}.cmd`;
  return command;
}

/**
 * Inherited by every child, as the SDK's stdio transport does (getDefaultEnvironment): what programs
 * need to find the user's home, tools and temp folder. On POSIX the list follows sudo's defaults.
 */
const INHERITED: Record<'posix' | 'win32', readonly string[]> = {
  posix: ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'],
  win32: [
    'APPDATA',
    'HOMEDRIVE',
    'HOMEPATH',
    'LOCALAPPDATA',
    'PATH',
    'PROCESSOR_ARCHITECTURE',
    'SYSTEMDRIVE',
    'SYSTEMROOT',
    'TEMP',
    'USERNAME',
    'USERPROFILE',
    'PROGRAMFILES',
  ],
};

/**
 * The child's whole environment: the safe inherited subset above, the enriched PATH and the
 * backend's own variables. The rest of the gateway's environment is not handed down, so secrets
 * meant for one backend never reach another.
 */
export function childEnvironment(
  configured: Record<string, string>,
  platform: NodeJS.Platform,
  home: string,
  parentEnv: NodeJS.ProcessEnv,
): Record<string, string> {
  const windows = platform === 'win32';
  // Windows variable names are case-insensitive; a copied environment object's keys are not.
  const keyOf = (name: string) => (windows ? Object.keys(parentEnv).find((k) => k.toUpperCase() === name) : name);
  const inherited: Record<string, string> = {};
  for (const name of INHERITED[windows ? 'win32' : 'posix']) {
    const key = keyOf(name);
    const value = key === undefined ? undefined : parentEnv[key];
    // Exported shell functions ("() { …") are a known injection vector (Shellshock); never pass them.
    if (key !== undefined && value !== undefined && !value.startsWith('()')) inherited[key] = value;
  }
  const pathKey = windows ? (keyOf('PATH') ?? 'Path') : 'PATH';
  const base = configured.PATH ?? configured.Path ?? parentEnv[pathKey];
  return { ...inherited, ...configured, [pathKey]: enrichedPath(base, platform, home, parentEnv) };
}
