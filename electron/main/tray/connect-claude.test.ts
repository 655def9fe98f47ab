import { describe, expect, it } from 'vitest';
import type { ClientChangeView } from '../../../src/api/contract.js';
import { GatewayError } from '../../../src/index.js';
import { connectClaudeDesktop, type ConnectClient } from './connect-claude.js';
import type { TrayState } from './tray-menu.js';

const FALLBACK =
  'the gateway listens on port 3457 because port 3456 was busy at its start; this app will lose it when a later start gets 3456 back.';

function tray(connect: ConnectClient) {
  const seen = {
    notes: [] as string[],
    failures: [] as unknown[],
    shown: {} as Partial<TrayState>,
    asked: [] as string[],
  };
  const run = () =>
    connectClaudeDesktop({
      connect: async (client) => {
        seen.asked.push(client);
        return connect(client);
      },
      notify: (title, body) => seen.notes.push(`${title}: ${body}`),
      show: (next) => (seen.shown = { ...seen.shown, ...next }),
      failed: (error) => seen.failures.push(error),
    });
  return { run, seen };
}

const change = (warnings: string[]): ClientChangeView => ({
  client: 'claude-desktop',
  configPath: '/home/u/.config/Claude/claude_desktop_config.json',
  changed: true,
  message: 'Claude Desktop now uses the gateway at http://127.0.0.1:3457/mcp.',
  warnings,
});

describe("the tray's Connect to Claude Desktop", () => {
  it('shows the warnings of the connect operation it is given (a fallback port)', async () => {
    const t = tray(async () => change([FALLBACK]));
    await t.run();
    expect(t.seen.asked).toEqual(['claude-desktop']);
    expect(t.seen.notes).toEqual([
      `Claude Desktop connected: Claude Desktop now uses the gateway at http://127.0.0.1:3457/mcp. Warning: ${FALLBACK}`,
    ]);
    expect(t.seen.shown).toEqual({ claudeDesktop: 'connected' });
  });

  it('says only what changed when there is nothing to warn about', async () => {
    const t = tray(async () => change([]));
    await t.run();
    expect(t.seen.notes).toEqual([
      'Claude Desktop connected: Claude Desktop now uses the gateway at http://127.0.0.1:3457/mcp.',
    ]);
  });

  it('reports a refusal and leaves the tray as it was', async () => {
    const refusal = new GatewayError('not_found', 'Claude Desktop is not installed');
    const t = tray(async () => Promise.reject(refusal));
    await t.run();
    expect(t.seen.failures).toEqual([refusal]);
    expect(t.seen.notes).toEqual([]);
    expect(t.seen.shown).toEqual({});
  });
});
