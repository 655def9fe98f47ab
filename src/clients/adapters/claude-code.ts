import { isObject, pathsFor, type ClientAdapter } from '../types.js';

/**
 * Claude Code keeps user-scoped servers in `~/.claude.json` (or `$CLAUDE_CONFIG_DIR/.claude.json`),
 * a file it also rewrites itself: the engine re-reads it just before writing.
 */
export const claudeCode: ClientAdapter<'claude-code'> = {
  id: 'claude-code',
  name: 'Claude Code',
  configPath(environment) {
    const p = pathsFor(environment);
    const dir = environment.env.CLAUDE_CONFIG_DIR;
    return dir ? p.join(dir, '.claude.json') : p.home('.claude.json');
  },
  installMarkers(environment) {
    const p = pathsFor(environment);
    const dir = environment.env.CLAUDE_CONFIG_DIR;
    return [dir ?? p.home('.claude')];
  },
  serversKey: ['mcpServers'],
  async entry(url) {
    return { value: { type: 'http', url }, warnings: [] };
  },
  entryUrl(entry) {
    return isObject(entry) && typeof entry.url === 'string' ? entry.url : undefined;
  },
  afterConnect: 'Start a new Claude Code session; run /mcp there to sign in to the gateway.',
};
