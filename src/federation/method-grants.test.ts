import { describe, expect, it } from 'vitest';
import {
  CancelTaskRequestSchema,
  ClientNotificationSchema,
  ClientRequestSchema,
  GetTaskPayloadRequestSchema,
  GetTaskRequestSchema,
  ListTasksRequestSchema,
} from '@modelcontextprotocol/core';
import { buildCatalog, type CatalogSource } from './catalog.js';
import { acceptsNotification, needOf, scopeNeeded, sendsNotification } from './method-grants.js';
import { grantOf } from './scopes.js';

function source(id: string): CatalogSource {
  return {
    id,
    name: id,
    overrides: {},
    catalog: {
      tools: [
        { name: 'look', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } },
        { name: 'change', inputSchema: { type: 'object' } },
      ],
      prompts: [{ name: 'greet' }],
      resources: [{ uri: `${id}://readme`, name: 'readme' }],
      resourceTemplates: [{ uriTemplate: `${id}://items/{item}`, name: 'items' }],
    },
  };
}

const catalog = buildCatalog([source('a'), source('b')]);
const onlyA = grantOf(['mcp:a:write']);
const need = (method: string, params?: Record<string, unknown>) => needOf(method, params, catalog);

describe('the method grant table', () => {
  it('refuses a method it does not list, even one the MCP schema knows', () => {
    expect(need('sampling/createMessage')).toBeUndefined();
    expect(need('vendor/anything')).toBeUndefined();
    // Inherited object keys are not table rows.
    expect(need('constructor')).toBeUndefined();
    expect(need('__proto__')).toBeUndefined();
  });

  it('lists every client request method it serves, and nothing the gateway does not implement', () => {
    // The 2025-11-25 tasks methods are not in the SDK 2.x union (an extension in 2026-07-28).
    const tasks = [GetTaskRequestSchema, GetTaskPayloadRequestSchema, ListTasksRequestSchema, CancelTaskRequestSchema];
    const served = [...ClientRequestSchema.options, ...tasks]
      .map((schema) => schema.shape.method.value)
      .filter((method) => need(method) !== undefined)
      .sort();
    expect(served).toEqual([
      'completion/complete',
      'initialize',
      'logging/setLevel',
      'ping',
      'prompts/get',
      'prompts/list',
      'resources/list',
      'resources/read',
      'resources/subscribe',
      'resources/templates/list',
      'resources/unsubscribe',
      'tasks/cancel',
      'tasks/get',
      'tasks/list',
      'tasks/result',
      'tools/call',
      'tools/list',
    ]);
  });

  it('needs a tool’s own class: read for read-only tools, write for the rest', () => {
    expect(scopeNeeded(grantOf(['mcp:b:read']), need('tools/call', { name: 'b__look' }))).toBeUndefined();
    expect(scopeNeeded(grantOf(['mcp:b:read']), need('tools/call', { name: 'b__change' }))).toBe('mcp:b:write');
    expect(scopeNeeded(onlyA, need('tools/call', { name: 'b__look' }))).toBe('mcp:b:read');
  });

  it('needs the owner’s read for prompts, resources, subscriptions and both kinds of completion', () => {
    expect(scopeNeeded(onlyA, need('prompts/get', { name: 'b__greet' }))).toBe('mcp:b:read');
    expect(scopeNeeded(onlyA, need('resources/read', { uri: 'b://readme' }))).toBe('mcp:b:read');
    expect(scopeNeeded(onlyA, need('resources/read', { uri: 'b://items/7' }))).toBe('mcp:b:read');
    expect(scopeNeeded(onlyA, need('resources/subscribe', { uri: 'b://readme' }))).toBe('mcp:b:read');
    const complete = (ref: Record<string, unknown>) => need('completion/complete', { ref, argument: {} });
    expect(scopeNeeded(onlyA, complete({ type: 'ref/prompt', name: 'b__greet' }))).toBe('mcp:b:read');
    expect(scopeNeeded(onlyA, complete({ type: 'ref/resource', uri: 'b://items/{item}' }))).toBe('mcp:b:read');
    expect(scopeNeeded(onlyA, complete({ type: 'ref/resource', uri: 'a://items/{item}' }))).toBeUndefined();
  });

  it('asks nothing of the gateway’s own methods, names it does not serve, and lets lists filter', () => {
    for (const method of ['initialize', 'ping', 'logging/setLevel', 'resources/unsubscribe']) {
      expect(need(method, { uri: 'b://readme' })).toEqual({ kind: 'none' });
    }
    expect(need('tools/call', { name: 'whoami' })).toEqual({ kind: 'none' });
    expect(need('tools/call', { name: 'b__missing' })).toEqual({ kind: 'none' });
    expect(need('resources/templates/list')).toEqual({ kind: 'filtered' });
  });

  it('accepts only the client notifications it acts on, and sends only the ones it lists', () => {
    for (const schema of ClientNotificationSchema.options) {
      const method = schema.shape.method.value;
      const expected = ['notifications/initialized', 'notifications/cancelled', 'notifications/progress'];
      expect(acceptsNotification(method)).toBe(expected.includes(method));
    }
    expect(sendsNotification('notifications/message')).toBe(true);
    expect(sendsNotification('notifications/resources/updated')).toBe(true);
    expect(sendsNotification('notifications/elicitation/complete')).toBe(true);
    // A task's status goes to its owner (mcp/endpoint.ts); a client's own notification never goes out.
    expect(sendsNotification('notifications/tasks/status')).toBe(true);
    expect(sendsNotification('notifications/roots/list_changed')).toBe(false);
  });
});
