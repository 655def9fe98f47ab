import { isObject, pathsFor, type ClientAdapter } from '../types.js';

/** Cursor: the global `~/.cursor/mcp.json` (the same place on every OS). */
export const cursor: ClientAdapter<'cursor'> = {
  id: 'cursor',
  name: 'Cursor',
  configPath(environment) {
    return pathsFor(environment).home('.cursor', 'mcp.json');
  },
  installMarkers(environment) {
    const p = pathsFor(environment);
    return [p.home('.cursor'), p.electronUserData('Cursor')];
  },
  serversKey: ['mcpServers'],
  async entry(url) {
    return { value: { url }, warnings: [] };
  },
  entryUrl(entry) {
    return isObject(entry) && typeof entry.url === 'string' ? entry.url : undefined;
  },
  afterConnect: 'Cursor picks the change up in Settings → MCP; sign in to the gateway when it asks.',
};
