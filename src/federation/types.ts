// Types only, with no imports: the console API (src/api/contract.ts) re-exports them to the renderer.

/** One tool of one backend as the owner manages it, including tools the owner disabled. */
export interface ToolView {
  backend: string;
  /** The backend's own name for the tool. */
  original: string;
  /** The name clients see; absent while the tool is disabled (it is not federated). */
  name?: string;
  title?: string;
  description?: string;
  enabled: boolean;
  access: 'read' | 'write';
  /** Where `access` comes from: the owner's override, the server's `readOnlyHint`, or the write default. */
  accessSource: 'override' | 'annotation' | 'default';
  /** The scope a client needs to see and call it (`mcp:<backend>:read|write`). */
  scope: string;
}
