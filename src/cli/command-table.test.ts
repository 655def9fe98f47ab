import { describe, expect, it } from 'vitest';
import { GatewayError } from '../shared/errors.js';
import { COMMANDS, runCli, usage } from './command-table.js';
import type { CliIo } from './common.js';

/** A terminal that keeps what is written; the CLI is typed as `cg` here. */
function terminal() {
  const written = { out: '', err: '' };
  const io: CliIo = {
    out: (text) => (written.out += text),
    err: (text) => (written.err += text),
    readStdin: async () => '',
    cliCommand: async () => 'cg',
    entry: '/nowhere/cortex-gateway.mjs',
  };
  return { io, written };
}

describe('the command table', () => {
  it('has one row per name and alias', () => {
    const names = COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('prints help from the table: every command with its usage and summary', async () => {
    const { io, written } = terminal();
    expect(await runCli(['help'], io)).toBe(0);
    expect(written.out).toBe(usage('cg'));
    expect(written.out.split('\n')[0]).toBe('Usage: cg <command> [options]');
    for (const command of COMMANDS) {
      expect(written.out).toContain(`  ${command.usage}\n`);
      expect(written.out).toContain(command.summary);
    }
  });

  it('prints help with no command at all', async () => {
    const { io, written } = terminal();
    expect(await runCli([], io)).toBe(0);
    expect(written.out).toBe(usage('cg'));
  });

  it("prints one command's usage for <command> --help, without running it", async () => {
    const { io, written } = terminal();
    expect(await runCli(['connect', '--help'], io)).toBe(0);
    expect(written.out.split('\n')[0]).toBe('Usage: cg connect <client> [--url URL]');
    expect(written.out).toContain('claude-desktop, claude-code, cursor, vscode, windsurf, gemini-cli');
  });

  it('answers the version under each of its spellings', async () => {
    for (const spelling of ['version', '--version', '-v']) {
      const { io, written } = terminal();
      expect(await runCli([spelling], io)).toBe(0);
      expect(written.out).toMatch(/^\d+\.\d+\.\d+/);
    }
  });

  it('refuses an unknown command as a usage error (exit 64), saying how to get help', async () => {
    const { io } = terminal();
    const refused = await runCli(['bogus'], io).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GatewayError);
    expect(refused).toMatchObject({ code: 'invalid_argument', message: 'unknown command "bogus" (try: cg help)' });
  });
});
