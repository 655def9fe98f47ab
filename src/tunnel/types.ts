// Types only, with no imports: the console API (src/api/contract.ts) re-exports them to the renderer.

export type TunnelState = 'stopped' | 'starting' | 'running' | 'failed';

/** The public tunnel (claude.ai connectors): its state and, while running, the URL to paste. */
export interface TunnelStatus {
  provider: string;
  state: TunnelState;
  /** Epoch ms of the last state change. */
  since: number;
  /** Public https origin while running, e.g. https://words.trycloudflare.com. */
  publicUrl?: string;
  /** The MCP URL to paste into claude.ai, while running. */
  mcpUrl?: string;
  lastError?: string;
  restartCount: number;
}
