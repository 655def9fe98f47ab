// Types only, with no imports: the console API (src/api/contract.ts) re-exports them to the renderer.

/** One tool call as the Activity page shows it. */
export interface ActivityEntry {
  /** Increasing; `GET /api/activity?after=<id>` returns only newer entries. */
  id: number;
  /** Epoch ms when the call arrived. */
  at: number;
  clientId: string;
  clientName?: string;
  /** The federated tool name the client called. */
  tool: string;
  /** The backend that served it (absent for builtins and refused unknown tools). */
  backend?: string;
  durationMs: number;
  /** `error`: the backend failed or answered `isError`; `refused`: outside the grant or unknown. */
  outcome: 'ok' | 'error' | 'refused';
  error?: string;
  /** Argument names only, unless the owner turned on `gateway.activityArguments` (values then redacted). */
  argumentKeys: string[];
  arguments?: unknown;
}
