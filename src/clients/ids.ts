/**
 * The ids of the client apps the gateway has an adapter for, in the order lists show them. Kept
 * apart from the adapters (adapters/index.ts) because the console's contract re-exports the id type
 * and the renderer type-checks without Node: this file imports nothing. The adapter table is checked
 * by the compiler to hold exactly one adapter per id here.
 */
export const CLIENT_IDS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf', 'gemini-cli'] as const;

/** MCP client apps whose config the gateway can write its entry into. */
export type ClientAppId = (typeof CLIENT_IDS)[number];
