import type { Server } from 'node:http';

/** See conformance-adapter.mjs: the loopback adapter between the conformance suite and /mcp. */
export function createAdapter(options: {
  target: URL;
  token: string;
  backend: string;
  builtins: ReadonlySet<string>;
}): Promise<Server>;
