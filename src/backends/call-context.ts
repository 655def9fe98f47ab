import type { ClientCapabilities } from '@modelcontextprotocol/client';

/**
 * What a backend may ask of the user through the client whose call it is serving (MCP 2025-11-25:
 * client/sampling, client/elicitation, client/roots). These are the only server-to-client
 * requests the gateway relays; pings it answers itself.
 */
export const ASK_METHODS = ['sampling/createMessage', 'elicitation/create', 'roots/list'] as const;
export type AskMethod = (typeof ASK_METHODS)[number];

/**
 * The port between a backend and the client call that caused its request: the federation's
 * routes take one for the duration of the backend request, and the backend hands it whatever the
 * backend asks while that request runs. Delivery only: the backend has already attributed the
 * request to the call and checked it against `capabilities` (`askRefusal`) before `ask` runs.
 *
 * A 2025-era session answers `ask` with a server-to-client request on the call's own stream; a
 * 2026-07-28 caller can answer it with an `input_required` result and complete it on the retry.
 */
export interface CallContext {
  /** What the calling client declared it can do (its `initialize` capabilities, or the request's `_meta`). */
  readonly capabilities: ClientCapabilities;
  /**
   * Puts the backend's request to the client and resolves with the client's result, as the client
   * sent it (relayed, not interpreted). Rejects with the client's error (`code`, `message`, `data`)
   * or when `signal` aborts: the call ended, was cancelled, or the backend gave up on its request.
   */
  ask(
    method: AskMethod,
    params: Record<string, unknown> | undefined,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>>;
  /**
   * Tells the client that the URL-mode elicitation with this id, which it was asked during this
   * call, has completed (MCP 2025-11-25 client/elicitation, "Completion Notifications for URL Mode
   * Elicitation"). It may come after the call has ended. Absent where the client has no channel
   * for it once its call is over (a 2026-07-28 call): the notification is then dropped.
   */
  elicitationComplete?(elicitationId: string): void;
}

/**
 * JSON-RPC 2.0 §5.1 method not found: what the backend is told when the client it would reach did
 * not declare the capability, or when no call can be found to put the request to. MCP defines no
 * code of its own for a capability the client lacks; the SDK's clients answer a method they have
 * no handler for with this code too, so a backend handles it as it would a client without it.
 */
export const ASK_REFUSED = -32601;

/**
 * Why the calling client cannot be asked this, or undefined when it can: a client is asked only
 * what it declared (MCP 2025-11-25 basic/lifecycle, capability negotiation; client/elicitation
 * "Capabilities": an empty `elicitation` object means form mode only; client/sampling: tools and
 * context inclusion need their own sub-capabilities).
 */
export function askRefusal(
  method: AskMethod,
  params: Record<string, unknown> | undefined,
  capabilities: ClientCapabilities,
): string | undefined {
  switch (method) {
    case 'sampling/createMessage': {
      const sampling = capabilities.sampling;
      if (!sampling) return 'the client did not declare the sampling capability';
      if ((params?.tools !== undefined || params?.toolChoice !== undefined) && !sampling.tools) {
        return 'the client did not declare sampling.tools, which a sampling request with tools needs';
      }
      const context = params?.includeContext;
      if (context !== undefined && context !== 'none' && !sampling.context) {
        return `the client did not declare sampling.context, which includeContext "${String(context)}" needs`;
      }
      return undefined;
    }
    case 'elicitation/create': {
      const elicitation = capabilities.elicitation as { form?: unknown; url?: unknown } | undefined;
      if (!elicitation) return 'the client did not declare the elicitation capability';
      const mode = params?.mode ?? 'form';
      // client/elicitation: `{}` is form mode only, for clients written before modes existed.
      const form = elicitation.form !== undefined || elicitation.url === undefined;
      if (mode === 'url' && elicitation.url === undefined) {
        return 'the client did not declare elicitation.url, which URL-mode elicitation needs';
      }
      if (mode === 'form' && !form) return 'the client did not declare elicitation.form';
      if (mode !== 'form' && mode !== 'url') return `unknown elicitation mode "${String(mode)}"`;
      return undefined;
    }
    case 'roots/list':
      return capabilities.roots ? undefined : 'the client did not declare the roots capability';
  }
}

/**
 * What a question needs the client to have declared, in the `ClientCapabilities` shape (the
 * `requiredCapabilities` of a 2026-07-28 MissingRequiredClientCapability error); undefined for a
 * question no capability covers (an unknown elicitation mode). The counterpart of `askRefusal`.
 */
export function requiredCapabilities(
  method: AskMethod,
  params: Record<string, unknown> | undefined,
): ClientCapabilities | undefined {
  switch (method) {
    case 'sampling/createMessage': {
      const withTools = params?.tools !== undefined || params?.toolChoice !== undefined;
      const context = params?.includeContext;
      const withContext = context !== undefined && context !== 'none';
      return { sampling: { ...(withTools && { tools: {} }), ...(withContext && { context: {} }) } };
    }
    case 'elicitation/create': {
      const mode = params?.mode ?? 'form';
      if (mode !== 'form' && mode !== 'url') return undefined;
      return { elicitation: { [mode]: {} } };
    }
    case 'roots/list':
      return { roots: {} };
  }
}

/**
 * An error answered to the backend as it stands: the SDK sends a thrown error's `code`, `message`
 * and `data`. A 2026-07-28 backend's question has no error answer (an input response has no error
 * form), so there the error ends the call instead, and what it carries says why to the caller
 * (request-errors.ts): which question, and whether the client lacked a capability (`required`),
 * answered with an error of its own (`fromClient`), or the gateway could put it to no client.
 */
export class AskError extends Error {
  readonly method: AskMethod;
  /** The capabilities the client would have had to declare, when that is why it was refused. */
  readonly required: ClientCapabilities | undefined;
  /** The client's own error answer, relayed (its code and data are the client's). */
  readonly fromClient: boolean;
  constructor(
    readonly code: number,
    message: string,
    readonly data: unknown,
    why: { method: AskMethod; required?: ClientCapabilities; fromClient?: boolean },
  ) {
    super(message);
    this.name = 'AskError';
    this.method = why.method;
    this.required = why.required;
    this.fromClient = why.fromClient ?? false;
  }
}
