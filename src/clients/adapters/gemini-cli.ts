import { isObject, pathsFor, type ClientAdapter } from '../types.js';

/** Gemini CLI: `~/.gemini/settings.json`; Streamable HTTP servers go under `httpUrl`. */
export const geminiCli: ClientAdapter<'gemini-cli'> = {
  id: 'gemini-cli',
  name: 'Gemini CLI',
  configPath(environment) {
    return pathsFor(environment).home('.gemini', 'settings.json');
  },
  installMarkers(environment) {
    return [pathsFor(environment).home('.gemini')];
  },
  serversKey: ['mcpServers'],
  async entry(url) {
    return { value: { httpUrl: url }, warnings: [] };
  },
  entryUrl(entry) {
    return isObject(entry) && typeof entry.httpUrl === 'string' ? entry.httpUrl : undefined;
  },
  afterConnect: 'Start Gemini CLI again; run /mcp auth cortex-gateway there to sign in.',
  // Gemini CLI: `httpUrl` is Streamable HTTP, `url` is SSE.
  remoteKind(entry) {
    return entry.type === 'sse' || typeof entry.httpUrl !== 'string' ? 'sse' : 'http';
  },
};
