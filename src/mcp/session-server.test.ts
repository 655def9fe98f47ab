import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BackendPool } from '../backends/pool.js';
import { parseConfig } from '../config/load.js';
import { Federation } from '../federation/federation.js';
import { systemClock } from '../shared/clock.js';
import { silentLogger } from '../shared/logger.js';
import { createSessionServer } from './session-server.js';

describe('the session’s gate', () => {
  // No backends: nothing is spawned, nothing listens.
  const pool = new BackendPool({
    config: parseConfig({ mcpServers: {} }),
    logger: silentLogger,
    clock: systemClock,
    clientInfo: { name: 't', version: '1' },
  });
  const session = () =>
    createSessionServer({
      federation: new Federation(pool, silentLogger),
      statuses: () => [],
      serverInfo: { name: 't', version: '1' },
      identity: { subject: 'u', clientId: 'c', scopes: ['*'] },
      listPageSize: 0,
      subscriptions: { subscribe: async () => {}, unsubscribe: async () => {} },
      logger: silentLogger,
    });

  it('refuses a method missing from the grant table even when a handler would answer it', () => {
    const mcp = session();
    // A handler added without its row in the table (method-grants.ts): the gate still says no.
    mcp.server.setRequestHandler('vendor/export', { params: z.object({}) }, () => ({ everything: true }));
    expect(mcp.admit({ jsonrpc: '2.0', id: 1, method: 'vendor/export' })).toEqual({
      code: -32601,
      message: 'Method not found: vendor/export',
    });
    expect(mcp.admit({ jsonrpc: '2.0', id: 2, method: 'ping' })).toBeUndefined();
  });

  it('lets through only the client notifications it acts on', () => {
    const mcp = session();
    expect(mcp.admit({ jsonrpc: '2.0', method: 'notifications/initialized' })).toBeUndefined();
    expect(mcp.admit({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } })).toBeUndefined();
    expect(mcp.admit({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' })).toBeDefined();
    expect(mcp.admit({ jsonrpc: '2.0', method: 'vendor/anything' })).toBeDefined();
  });
});
