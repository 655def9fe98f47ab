/** See inspector.mjs: the MCP Inspector CLI and Node 22, installed into .inspector/ for the tests. */
export const INSPECTOR_VERSION: string;
export const NODE22_VERSION: string;
export const INSPECTOR_DIR: string;

export type FoundInspector = { ok: true; node: string; cli: string } | { ok: false; missing: string };

export function findInspector(): FoundInspector;
export function installInspector(): void;
