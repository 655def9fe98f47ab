import { isObject, pathsFor, type ClientAdapter } from '../types.js';

/** VS Code: the user-level `mcp.json` in its User folder (JSONC: comments and trailing commas kept). */
export const vscode: ClientAdapter<'vscode'> = {
  id: 'vscode',
  name: 'VS Code',
  configPath(environment) {
    return pathsFor(environment).join(pathsFor(environment).electronUserData('Code'), 'User', 'mcp.json');
  },
  installMarkers(environment) {
    const p = pathsFor(environment);
    return [p.electronUserData('Code'), p.home('.vscode')];
  },
  serversKey: ['servers'],
  async entry(url) {
    return { value: { type: 'http', url }, warnings: [] };
  },
  entryUrl(entry) {
    return isObject(entry) && typeof entry.url === 'string' ? entry.url : undefined;
  },
  afterConnect:
    'In VS Code, start the server from "MCP: List Servers" (or the Start link in mcp.json) and sign in when asked.',
};
