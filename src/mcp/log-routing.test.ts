import type { JSONRPCRequest } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { buildCatalog, type CatalogSource } from '../federation/catalog.js';
import { isLoggingLevel, logLevelAtLeast, relatedRequest } from './log-routing.js';

function source(id: string): CatalogSource {
  return {
    id,
    name: id,
    overrides: {},
    catalog: {
      tools: [{ name: 'run', inputSchema: { type: 'object' } }],
      prompts: [{ name: 'greet' }],
      resources: [{ uri: `${id}://readme`, name: 'readme' }],
      resourceTemplates: [],
    },
  };
}

const catalog = buildCatalog([source('a'), source('b')]);
const request = (id: number, method: string, params: Record<string, unknown>): JSONRPCRequest => ({
  jsonrpc: '2.0',
  id,
  method,
  params,
});

describe('relatedRequest', () => {
  it('is the one call to the backend that logged', () => {
    const streaming = [request(1, 'tools/call', { name: 'b__run' }), request(2, 'tools/call', { name: 'a__run' })];
    expect(relatedRequest(streaming, 'a', catalog)).toBe(2);
  });

  it('counts prompts/get and resources/read as calls to their backend', () => {
    expect(relatedRequest([request(3, 'prompts/get', { name: 'a__greet' })], 'a', catalog)).toBe(3);
    expect(relatedRequest([request(4, 'resources/read', { uri: 'b://readme' })], 'b', catalog)).toBe(4);
  });

  it('is none when no call to that backend is streaming', () => {
    expect(relatedRequest([request(5, 'tools/call', { name: 'b__run' })], 'a', catalog)).toBeUndefined();
    expect(relatedRequest([request(6, 'tools/list', {})], 'a', catalog)).toBeUndefined();
    expect(relatedRequest([], 'a', catalog)).toBeUndefined();
  });

  it('is none when several calls to that backend are streaming (which one logged is unknown)', () => {
    const streaming = [request(7, 'tools/call', { name: 'a__run' }), request(8, 'prompts/get', { name: 'a__greet' })];
    expect(relatedRequest(streaming, 'a', catalog)).toBeUndefined();
  });
});

describe('log levels', () => {
  it('lets through a message at the level asked or more severe', () => {
    expect(logLevelAtLeast('warning', 'warning')).toBe(true);
    expect(logLevelAtLeast('error', 'info')).toBe(true);
    expect(logLevelAtLeast('info', 'warning')).toBe(false);
    expect(logLevelAtLeast('debug', 'info')).toBe(false);
  });

  it('knows the eight levels and nothing else', () => {
    expect(isLoggingLevel('notice')).toBe(true);
    expect(isLoggingLevel('emergency')).toBe(true);
    expect(isLoggingLevel('verbose')).toBe(false);
    expect(isLoggingLevel(3)).toBe(false);
    expect(isLoggingLevel(undefined)).toBe(false);
  });
});
