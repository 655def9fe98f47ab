import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { posix, win32 } from 'node:path';
import { enrichedPath } from '../backends/environment.js';
import { GatewayError } from '../shared/errors.js';
import type { ClientEnvironment } from './types.js';

/** mcp-remote's own requirement (its package.json `engines`). */
export const MIN_NODE_MAJOR = 18;

export interface NodeRuntime {
  /** Absolute path of npx (npx.cmd on Windows). */
  npx: string;
  /** The node beside it, which npx's launcher runs. */
  node: string;
  /** e.g. "20.19.1" */
  version: string;
  /** The PATH the client app must pass for npx to find its node (see guiPathFor), when the default will not do. */
  path?: string;
  warnings: string[];
}

/**
 * Finds the npx Claude Desktop should launch. GUI apps do not get the shell's PATH (nvm, volta,
 * Homebrew…), so the entry needs an absolute path: the npx next to the Node running us first (it
 * is the one the user runs), then the PATH enriched with the usual install places.
 */
export function findNpx(environment: ClientEnvironment): { npx: string; node: string } | undefined {
  const win = environment.platform === 'win32';
  const path = win ? win32 : posix;
  const npxName = win ? 'npx.cmd' : 'npx';
  const nodeName = win ? 'node.exe' : 'node';
  const dirs: string[] = [];
  // Under Electron, execPath is the app itself: there is no npx beside it.
  if (environment.execPath && /^node(\.exe)?$/i.test(path.basename(environment.execPath))) {
    dirs.push(path.dirname(environment.execPath));
  }
  const pathKey = Object.keys(environment.env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  const searchPath = enrichedPath(environment.env[pathKey], environment.platform, environment.homedir, {
    ...environment.env,
  });
  dirs.push(...searchPath.split(win ? ';' : ':').filter(Boolean));
  for (const dir of dirs) {
    const npx = path.join(dir, npxName);
    if (existsSync(npx)) return { npx, node: path.join(dir, nodeName) };
  }
  return undefined;
}

/** Folders on the PATH of an app opened from the Dock / desktop menu (launchd's and a desktop session's default). */
const GUI_PATH: Partial<Record<NodeJS.Platform, string[]>> = {
  darwin: ['/usr/bin', '/bin', '/usr/sbin', '/sbin'],
  linux: ['/usr/local/bin', '/usr/bin', '/bin'],
};

/**
 * npx on macOS and Linux starts with `#!/usr/bin/env node`, so the absolute path is not enough when
 * node lives where a GUI app's PATH does not reach (Homebrew, nvm, volta): the PATH Claude Desktop
 * should give the entry, npx's own folder first. Undefined where the default PATH already finds it,
 * and on Windows, whose npx.cmd runs the node.exe beside it.
 */
export function guiPathFor(npx: string, environment: ClientEnvironment): string | undefined {
  const standard = GUI_PATH[environment.platform];
  const dir = posix.dirname(npx);
  if (!standard || standard.includes(dir)) return undefined;
  return [dir, ...standard].join(':');
}

/** Runs `node --version`, or reads our own version when that node is the one running us. */
async function nodeVersion(node: string): Promise<string | undefined> {
  if (sameFile(node, process.execPath)) return process.versions.node;
  return new Promise((resolve) => {
    execFile(node, ['--version'], { timeout: 10_000, windowsHide: true }, (error, stdout) => {
      const match = /v?(\d+\.\d+\.\d+)/.exec(String(stdout));
      resolve(error || !match ? undefined : match[1]);
    });
  });
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** npx and a Node new enough for mcp-remote, or a plain-language refusal saying what to install. */
export async function requireNodeRuntime(environment: ClientEnvironment): Promise<NodeRuntime> {
  const found = findNpx(environment);
  if (!found) {
    throw new GatewayError(
      'node_unavailable',
      `Claude Desktop starts the gateway connection with npx (Node.js), and no npx was found next to this Node or on PATH. ` +
        `Install Node.js ${MIN_NODE_MAJOR} or newer from https://nodejs.org, then run connect again.`,
    );
  }
  const warnings: string[] = [];
  const guiPath = guiPathFor(found.npx, environment);
  const withPath = guiPath ? { path: guiPath } : {};
  if (!existsSync(found.node)) {
    warnings.push(
      `${found.npx} has no node beside it; Claude Desktop will use whichever node is first on its own PATH.`,
    );
    return { ...found, ...withPath, version: 'unknown', warnings };
  }
  const version = await nodeVersion(found.node);
  if (!version) {
    throw new GatewayError(
      'node_unavailable',
      `${found.node} did not answer "node --version"; Claude Desktop needs a working Node.js ${MIN_NODE_MAJOR} or newer. ` +
        `Install it from https://nodejs.org, then run connect again.`,
    );
  }
  if (Number(version.split('.')[0]) < MIN_NODE_MAJOR) {
    throw new GatewayError(
      'node_unavailable',
      `Claude Desktop would run mcp-remote with Node.js ${version} (${found.node}), but mcp-remote needs Node.js ${MIN_NODE_MAJOR} or newer. ` +
        `Install a current Node.js from https://nodejs.org, then run connect again.`,
    );
  }
  return { ...found, ...withPath, version, warnings };
}
