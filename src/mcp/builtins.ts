import type { Tool } from '@modelcontextprotocol/server';
import type { BackendErrorKind, BackendStatus } from '../backends/types.js';
import { searchTools, type FederatedCatalog } from '../federation/catalog.js';
import type { Grant } from '../federation/scopes.js';

/**
 * Who is calling: the holder of a verified token, with what it is granted now. `LOCAL_OWNER` is the
 * caller of an endpoint with no authorization layer in front (a request listener built without
 * `auth`, as some tests build one); the gateway's own listeners always identify the token.
 */
export interface Identity {
  subject: string;
  clientId: string;
  clientName?: string;
  scopes: readonly string[];
}

export const LOCAL_OWNER: Identity = Object.freeze({
  subject: 'owner',
  clientId: 'local',
  clientName: 'Local owner (no authorization configured)',
  scopes: Object.freeze(['*']),
});

export const BUILTIN_TOOLS: readonly Tool[] = Object.freeze<Tool[]>([
  {
    name: 'whoami',
    title: 'Who am I',
    description:
      'Returns the identity and client this session is authorized as, the scopes granted, and the health of every backend it is granted (state, tool count, latency, last error).',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  {
    name: 'find_tools',
    title: 'Find tools',
    description:
      'Searches every tool behind the gateway by words (name, description, backend) and returns the matches with their full input schemas. Use it when the tool list is too long to read.',
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', description: 'Words to look for, e.g. "read file" or "github issue".' },
        limit: { type: 'integer', minimum: 1, maximum: 50, default: 10, description: 'Most results to return.' },
      },
      required: ['query'],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
]);

export const BUILTIN_NAMES = new Set(BUILTIN_TOOLS.map((tool) => tool.name));

/** What kind of failure a backend's last error is, so a caller can tell without parsing the text. */
export type ErrorCategory = BackendErrorKind;

/** One backend as `whoami` shows it to a caller granted that backend. */
export interface BackendReport {
  name: string;
  state: BackendStatus['state'];
  toolCount: number;
  latencyMs?: number;
  /** Why it last failed: a category, and the error text with anything secret-looking masked. */
  lastError?: { category: ErrorCategory; message: string };
  restartCount: number;
  /** The MCP revision the gateway speaks with it (`2026-07-28`, `2025-11-25`…), once connected. */
  protocolVersion?: string;
}

/**
 * The backends a caller may see, each in full: only those its grant covers (read of that backend),
 * so an application learns nothing of servers the owner did not give it. Errors always go through
 * `mask`, as a backend's error may quote its own credentials.
 */
export function reportBackends(
  statuses: readonly BackendStatus[],
  grant: Grant,
  mask: (backend: string, text: string) => string,
): BackendReport[] {
  return statuses
    .filter((b) => grant.allowsRead(b.id))
    .map((b) => ({
      name: b.name,
      state: b.state,
      toolCount: b.toolCount,
      ...(b.latencyMs !== undefined ? { latencyMs: b.latencyMs } : {}),
      ...(b.lastError !== undefined
        ? { lastError: { category: b.lastErrorKind ?? 'error', message: mask(b.name, b.lastError) } }
        : {}),
      restartCount: b.restartCount,
      ...(b.protocolVersion !== undefined ? { protocolVersion: b.protocolVersion } : {}),
    }));
}

export function whoami(identity: Identity, scopes: readonly string[], backends: readonly BackendReport[]) {
  const report = {
    subject: identity.subject,
    client: { id: identity.clientId, ...(identity.clientName ? { name: identity.clientName } : {}) },
    scopes: [...scopes],
    backends,
  };
  return { content: [{ type: 'text' as const, text: JSON.stringify(report, null, 2) }], structuredContent: report };
}

export function findTools(catalog: FederatedCatalog, visible: (name: string) => boolean, args: unknown) {
  const input = (args ?? {}) as { query?: unknown; limit?: unknown };
  if (typeof input.query !== 'string') {
    return {
      content: [{ type: 'text' as const, text: 'find_tools needs a "query" string argument.' }],
      isError: true,
    };
  }
  const limit =
    typeof input.limit === 'number' && Number.isInteger(input.limit) ? Math.min(50, Math.max(1, input.limit)) : 10;
  const matches = searchTools(
    catalog.tools.filter((tool) => visible(tool.name)),
    input.query,
    limit,
  );
  const result = {
    query: input.query,
    tools: matches.map((tool) => ({ ...tool.definition, backend: tool.backend, access: tool.access })),
  };
  return { content: [{ type: 'text' as const, text: JSON.stringify(result, null, 2) }], structuredContent: result };
}
