import {
  CancelTaskRequestSchema,
  ClientNotificationSchema,
  ClientRequestSchema,
  GetTaskPayloadRequestSchema,
  GetTaskRequestSchema,
  JSONRPCResponseSchema,
  ListTasksRequestSchema,
  TaskStatusNotificationSchema,
} from '@modelcontextprotocol/core';
import {
  ProtocolErrorCode,
  RELATED_TASK_META_KEY,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type JSONRPCResponse,
  type RequestId,
} from '@modelcontextprotocol/server';
import { isRequestId } from '../shared/json-rpc.js';

/**
 * The one place where a message from a client is judged before anything acts on it: JSON-RPC 2.0
 * structure first, then the MCP schema of the method when we know it (the SDK's own schemas).
 *
 * Why here and not in the SDK: its protocol layer drops, unanswered, every message its strict
 * schema refuses (an id that is not a string or safe integer, an extra member, params that are not
 * an object...), and answers a params failure with -32603 and a zod dump. Each message that reaches
 * the SDK after this check is one its schema accepts, so it always answers.
 */

export interface WireFault {
  code: number;
  message: string;
}

export type CheckedMessage =
  | { kind: 'request'; message: JSONRPCRequest }
  | { kind: 'notification'; message: JSONRPCNotification }
  | { kind: 'response'; message: JSONRPCResponse }
  /** A faulty request (or something that is no message at all): answered with this error and id. */
  | { kind: 'refused'; id: RequestId | null; error: WireFault }
  /** A faulty notification or response: JSON-RPC 2.0 §4.1 and §5 forbid answering it. */
  | { kind: 'dropped'; error: WireFault };

const REQUEST_MEMBERS = new Set(['jsonrpc', 'id', 'method', 'params']);
const NOTIFICATION_MEMBERS = new Set(['jsonrpc', 'method', 'params']);

type Schema = { safeParse(value: unknown): { success: boolean; error?: { issues: Issue[] } } };
interface Issue {
  path: PropertyKey[];
  message: string;
  code?: string;
  errors?: Issue[][];
}

function byMethod(options: readonly unknown[]): Map<string, Schema> {
  const map = new Map<string, Schema>();
  for (const option of options) {
    const schema = option as Schema & { shape: { method: { value: string } } };
    map.set(schema.shape.method.value, schema);
  }
  return map;
}

/**
 * The SDK's schema for each client request and notification method of the 2025 revisions, which
 * are the ones sessions serve. The 2.x unions also hold the 2026-07-28 methods (server/discover,
 * subscriptions/listen), left out so that a session answers them -32601 like any method it lacks,
 * and leave out the 2025-11-25 tasks methods (moved to an extension in 2026-07-28), added back.
 */
const ONLY_2026 = new Set(['server/discover', 'subscriptions/listen']);
const REQUEST_SCHEMAS = byMethod([
  ...ClientRequestSchema.options.filter((option) => !ONLY_2026.has(option.shape.method.value)),
  GetTaskRequestSchema,
  GetTaskPayloadRequestSchema,
  ListTasksRequestSchema,
  CancelTaskRequestSchema,
]);
const NOTIFICATION_SCHEMAS = byMethod([...ClientNotificationSchema.options, TaskStatusNotificationSchema]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const invalidRequest = (message: string): WireFault => ({
  code: ProtocolErrorCode.InvalidRequest,
  message: `Invalid Request: ${message}`,
});
const invalidParams = (message: string): WireFault => ({
  code: ProtocolErrorCode.InvalidParams,
  message: `Invalid params: ${message}`,
});

/** Judges one element of a POST body (the body itself, or one element of a batch). */
export function checkMessage(value: unknown): CheckedMessage {
  if (!isObject(value)) return { kind: 'refused', id: null, error: invalidRequest('a message is a JSON object') };
  if (!('method' in value) && ('result' in value || 'error' in value)) return checkResponse(value);
  // JSON-RPC 2.0 §4.1: a request without an "id" member is a notification. Any id member, even
  // null, makes it a request, which is answered; with an id we cannot echo, the answer has id null.
  const request = 'id' in value;
  const id = request && isRequestId(value.id) ? value.id : null;
  const fault = structuralFault(value, request) ?? paramsFault(value, request);
  if (fault) return request ? { kind: 'refused', id, error: fault } : { kind: 'dropped', error: fault };
  return request
    ? { kind: 'request', message: value as unknown as JSONRPCRequest }
    : { kind: 'notification', message: value as unknown as JSONRPCNotification };
}

function structuralFault(message: Record<string, unknown>, request: boolean): WireFault | undefined {
  if (message.jsonrpc !== '2.0') return invalidRequest('"jsonrpc" must be "2.0"');
  if (request && !isRequestId(message.id)) {
    return invalidRequest('"id" must be a string or an integer (not null, not fractional, at most 2^53-1)');
  }
  if (typeof message.method !== 'string') {
    return invalidRequest('"method" must be a string, or a response needs "result" or "error"');
  }
  // A member JSON-RPC does not define is refused rather than ignored: a misspelt "params" would
  // otherwise run the method without its parameters. The SDK's schema is strict the same way.
  const allowed = request ? REQUEST_MEMBERS : NOTIFICATION_MEMBERS;
  for (const key in message) {
    if (!allowed.has(key)) {
      return invalidRequest(`unknown member "${key}"`);
    }
  }
  return undefined;
}

/**
 * The params every MCP request and notification shares, checked by hand (cheap, for the hot path),
 * then the method's own schema. A plain tools/call (name, object arguments, no task) passes the
 * first check and needs no schema: it is a subset of what CallToolRequestSchema accepts.
 */
function paramsFault(message: Record<string, unknown>, request: boolean): WireFault | undefined {
  const params = message.params;
  if (params !== undefined) {
    // MCP params are always named (an object); JSON-RPC's by-position arrays are not MCP.
    if (!isObject(params)) return invalidParams('"params" must be an object');
    const meta = params._meta;
    if (meta !== undefined) {
      if (!isObject(meta)) return invalidParams('"params._meta" must be an object');
      if (meta.progressToken !== undefined && !isRequestId(meta.progressToken)) {
        return invalidParams('"params._meta.progressToken" must be a string or an integer');
      }
      const related = meta[RELATED_TASK_META_KEY];
      if (related !== undefined && !(isObject(related) && typeof related.taskId === 'string')) {
        return invalidParams(`"params._meta.${RELATED_TASK_META_KEY}.taskId" must be a string`);
      }
    }
    if (request && message.method === 'tools/call' && isPlainToolCallParams(params)) return undefined;
  }
  const schema = (request ? REQUEST_SCHEMAS : NOTIFICATION_SCHEMAS).get(message.method as string);
  if (!schema) return undefined; // unknown methods: the SDK answers -32601 (requests) or ignores them
  const parsed = schema.safeParse(message);
  return parsed.success ? undefined : invalidParams(describeIssue(parsed.error!.issues[0]));
}

function isPlainToolCallParams(params: Record<string, unknown>): boolean {
  if (typeof params.name !== 'string' || params.task !== undefined) return false;
  const args = params.arguments;
  return args === undefined || isObject(args);
}

/** One short sentence naming the param at fault, e.g. `params.name: expected string, received number`. */
function describeIssue(issue: Issue | undefined): string {
  if (!issue) return 'params do not match the method';
  // A union (e.g. completion/complete's ref) fails as a whole; its closest branch says more.
  const branch = issue.code === 'invalid_union' ? issue.errors?.find((e) => e.length > 0)?.[0] : undefined;
  const chosen = branch ? { ...branch, path: [...issue.path, ...branch.path] } : issue;
  const path = chosen.path.map(String).join('.');
  // zod says a missing member was "received undefined": say it is required, which is what it means.
  const message = chosen.message.replace(/^Invalid input: (expected [^,]+), received undefined$/, 'required ($1)');
  return path ? `${path}: ${message}` : message;
}

function checkResponse(message: Record<string, unknown>): CheckedMessage {
  const parsed = JSONRPCResponseSchema.safeParse(message);
  if (parsed.success) return { kind: 'response', message: parsed.data as JSONRPCResponse };
  return { kind: 'dropped', error: invalidRequest(`not a valid response (${describeIssue(parsed.error.issues[0])})`) };
}

export function errorResponse(id: RequestId | null, error: WireFault): JSONRPCMessage {
  return { jsonrpc: '2.0', id, error } as unknown as JSONRPCMessage;
}

export interface JudgedMessages {
  /** Requests, notifications and responses to act on, in the order they came. */
  accepted: JSONRPCMessage[];
  /** The accepted requests: each is owed an answer. */
  requests: JSONRPCRequest[];
  /** Error answers to the requests refused. */
  refusals: JSONRPCMessage[];
  /** The first fault of a notification or response dropped, if any. */
  dropped: WireFault | undefined;
}

export interface JudgingContext {
  /** Whether this POST opens the session (only it may carry initialize). */
  opening: boolean;
  /** Whether a request with this id is still in flight in the session. */
  inFlight: (id: RequestId) => boolean;
  /** The session's gate (http-transport.ts, Admission): a fault refuses a request and drops a notification. */
  admit?: (message: JSONRPCRequest | JSONRPCNotification) => (WireFault & { data?: unknown }) | undefined;
}

/** Judges every message of one POST (one, or a batch) before anything acts on any of them. */
export function judgeMessages(raw: readonly unknown[], context: JudgingContext): JudgedMessages {
  const accepted: JSONRPCMessage[] = [];
  const requests: JSONRPCRequest[] = [];
  const refusals: JSONRPCMessage[] = [];
  let dropped: WireFault | undefined;
  for (const item of raw) {
    const checked = checkMessage(item);
    if (checked.kind === 'request') {
      const { id } = checked.message;
      if (context.inFlight(id) || requests.some((r) => r.id === id)) {
        // MCP basic: an id is never reused in a session; a second one in flight would take the
        // first one's answer. Refused, and the first request goes on untouched.
        refusals.push(errorResponse(id, invalidRequest(`request id ${JSON.stringify(id)} is already in flight`)));
        continue;
      }
      if (checked.message.method === 'initialize' && !context.opening) {
        refusals.push(errorResponse(id, invalidRequest('the session is already initialized')));
        continue;
      }
      const refusal = context.admit?.(checked.message);
      if (refusal) {
        refusals.push(errorResponse(id, refusal));
        continue;
      }
      requests.push(checked.message);
      accepted.push(checked.message);
    } else if (checked.kind === 'refused') {
      refusals.push(errorResponse(checked.id, checked.error));
    } else if (checked.kind === 'dropped') {
      dropped ??= checked.error;
    } else if (checked.kind === 'notification') {
      // A notification the session does not act on is dropped like a faulty one, yet unlike one it
      // is valid input: the POST is still accepted (202).
      if (!context.admit?.(checked.message)) accepted.push(checked.message);
    } else {
      accepted.push(checked.message);
    }
  }
  return { accepted, requests, refusals, dropped };
}
