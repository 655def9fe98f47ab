/**
 * The table of client adapters: one file per app in this folder, one row here. Every list of
 * clients is derived from it (the CLI's help and `unknown client` message, the console's import
 * choices, the contract's `ClientAppId`), so adding an app is its adapter file, its test, its id in
 * ../ids.ts and its row below; the compiler refuses a table that misses an id or names one twice.
 */
import { CLIENT_IDS, type ClientAppId } from '../ids.js';
import type { ClientAdapter } from '../types.js';
import { claudeCode } from './claude-code.js';
import { claudeDesktop } from './claude-desktop.js';
import { cursor } from './cursor.js';
import { geminiCli } from './gemini-cli.js';
import { vscode } from './vscode.js';
import { windsurf } from './windsurf.js';

const ADAPTERS = {
  'claude-desktop': claudeDesktop,
  'claude-code': claudeCode,
  cursor,
  vscode,
  windsurf,
  'gemini-cli': geminiCli,
} as const satisfies { readonly [Id in ClientAppId]: ClientAdapter<Id> };

/** Every adapter, in the order of CLIENT_IDS. */
export const CLIENTS: readonly ClientAdapter[] = CLIENT_IDS.map((id) => ADAPTERS[id]);
