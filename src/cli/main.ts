#!/usr/bin/env node
/**
 * The headless entry (`cortex-gateway`, bundled to dist/cortex-gateway.mjs): runs one command of the
 * table (command-table.ts) with this process's terminal. Every failure is a GatewayError whose code
 * decides the exit status (ERROR_TABLE, sysexits), printed as one line naming the field at fault.
 */
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describeError, ERROR_TABLE, GatewayError } from '../shared/errors.js';
import { resolveCliCommand } from '../shared/cli-command.js';
import { runCli } from './command-table.js';
import type { CliIo } from './common.js';

/** Everything on standard input (a piped secret); empty when it is a terminal nobody types into. */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const entry = fileURLToPath(import.meta.url);
let typed: Promise<string> | undefined;

const io: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  readStdin,
  entry,
  /** How the user types this CLI here: printed in help, the serve banner, the sign-in pages and the console. */
  cliCommand: () =>
    (typed ??= resolveCliCommand({
      entry,
      // Run by the desktop app's launcher: the app's executable in Node mode, not node.
      ...(process.versions.electron ? { executable: process.execPath } : {}),
      platform: process.platform,
      env: process.env,
      home: homedir(),
    })),
};

runCli(process.argv.slice(2), io).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof GatewayError ? error.message : describeError(error);
    // The field at fault follows the message (which may begin with the file it is in), unless the
    // message already names it (usage errors do: `--port: …`).
    const field =
      error instanceof GatewayError && error.field && !message.includes(error.field) ? ` (${error.field})` : '';
    process.stderr.write(`cortex-gateway: ${message}${field}\n`);
    process.exit(error instanceof GatewayError ? ERROR_TABLE[error.code].exit : 1);
  },
);
