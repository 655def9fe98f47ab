import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';
import type { ClientAppId } from './ids.js';
import type { JsonValue } from './jsonc.js';

export type { ClientAppId } from './ids.js';

/**
 * Where a client's files are looked for: the platform, the home folder and the variables that move
 * them (APPDATA, LOCALAPPDATA, XDG_CONFIG_HOME…). Injected so tests can point at a temporary home and
 * simulate another platform.
 */
export interface ClientEnvironment {
  platform: NodeJS.Platform;
  homedir: string;
  env: Readonly<Record<string, string | undefined>>;
  /** The running executable: `npx` is looked for next to it first (Node only; not the Electron binary). */
  execPath?: string;
}

/** The environment of this process, or of the given variables (HOME / USERPROFILE decide the home folder). */
export function clientEnvironment(env: NodeJS.ProcessEnv = process.env): ClientEnvironment {
  const platform = process.platform;
  const home = (platform === 'win32' ? env.USERPROFILE : env.HOME) || homedir();
  return { platform, homedir: home, env, execPath: process.execPath };
}

/** Path helpers for the environment's platform, so Windows paths come out right when simulated on Linux. */
export function pathsFor(environment: ClientEnvironment) {
  const path = environment.platform === 'win32' ? win32 : posix;
  const { env, homedir: home } = environment;
  /** An XDG base directory: an empty or relative value is ignored, as the spec says. */
  const xdg = (value: string | undefined, fallback: string) => (value && value.startsWith('/') ? value : fallback);
  const appData = (...segments: string[]) =>
    path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), ...segments);
  const xdgConfig = (...segments: string[]) =>
    path.join(xdg(env.XDG_CONFIG_HOME, path.join(home, '.config')), ...segments);
  return {
    join: path.join,
    dirname: path.dirname,
    home: (...segments: string[]) => path.join(home, ...segments),
    /** %APPDATA% (Roaming) on Windows. */
    appData,
    /** %LOCALAPPDATA% on Windows. */
    localAppData: (...segments: string[]) =>
      path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), ...segments),
    /** $XDG_CONFIG_HOME or ~/.config (Linux). */
    xdgConfig,
    /** $XDG_DATA_HOME or ~/.local/share (Linux). */
    xdgData: (...segments: string[]) =>
      path.join(xdg(env.XDG_DATA_HOME, path.join(home, '.local', 'share')), ...segments),
    /**
     * The per-user folder an Electron app named `name` keeps its data in (Electron's `appData`): it
     * exists once the app has run, which makes it a good "installed" marker.
     */
    electronUserData: (name: string) =>
      environment.platform === 'darwin'
        ? path.join(home, 'Library', 'Application Support', name)
        : environment.platform === 'win32'
          ? appData(name)
          : xdgConfig(name),
  };
}

/** Whether a path exists; a port so path resolution stays pure and testable. */
export type Exists = (path: string) => boolean;

/**
 * One MCP client app, described declaratively: where its config is, what says it is installed, which
 * key holds its servers and what our entry looks like. The engine (engine.ts) does all file work.
 */
export interface ClientAdapter<Id extends ClientAppId = ClientAppId> {
  id: Id;
  /** Human name, as the app calls itself. */
  name: string;
  /** The config file to edit. `exists` lets a client choose between locations (Claude Desktop's MSIX). */
  configPath(environment: ClientEnvironment, exists: Exists): string;
  /**
   * Files or folders whose presence says the app is installed (besides the config file itself). The
   * config file's folder is created only when one of these exists: we never invent an app's folder.
   */
  installMarkers(environment: ClientEnvironment): string[];
  /** Where the servers live in the file: `["mcpServers"]` or VS Code's `["servers"]`. */
  serversKey: readonly string[];
  /** Our entry for the MCP URL. Claude Desktop looks up `npx` (and may refuse: no Node ≥ 18). */
  entry(url: string, environment: ClientEnvironment): Promise<ClientEntry>;
  /** The gateway URL an entry points at, if it is recognisably ours. */
  entryUrl(entry: JsonValue): string | undefined;
  /** What the user does next for the app to pick the change up. */
  afterConnect: string;
  /**
   * Import: whether one of the app's remote entries speaks SSE rather than Streamable HTTP, when the
   * app says so its own way. Without it, `"type": "sse"` marks SSE (the common spelling).
   */
  remoteKind?(entry: { [key: string]: JsonValue }): 'http' | 'sse';
}

export interface ClientEntry {
  value: JsonValue;
  /** Things the user should know (e.g. npx outside the PATH that GUI apps get). */
  warnings: string[];
}

export function isObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
