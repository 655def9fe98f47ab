import { isObject, pathsFor, type ClientAdapter } from '../types.js';

/** Windsurf: `~/.codeium/windsurf/mcp_config.json`, remote servers under `serverUrl`. */
export const windsurf: ClientAdapter<'windsurf'> = {
  id: 'windsurf',
  name: 'Windsurf',
  configPath(environment) {
    return pathsFor(environment).home('.codeium', 'windsurf', 'mcp_config.json');
  },
  installMarkers(environment) {
    const p = pathsFor(environment);
    return [p.home('.codeium', 'windsurf'), p.electronUserData('Windsurf')];
  },
  serversKey: ['mcpServers'],
  async entry(url) {
    return { value: { serverUrl: url }, warnings: [] };
  },
  entryUrl(entry) {
    return isObject(entry) && typeof entry.serverUrl === 'string' ? entry.serverUrl : undefined;
  },
  afterConnect: 'In Windsurf, refresh the MCP servers (Cascade → MCP) and sign in when asked.',
};
