/**
 * The CLI's command table: each command is dispatched by name, and help is printed from the same
 * table. Adding a command is one file in commands/ and one row here.
 */
import { VERSION } from '../version.js';
import { usageError, type CliCommand, type CliIo } from './common.js';
import { approvalsCommand } from './commands/approvals.js';
import { backendsCommand } from './commands/backends.js';
import { clientsCommand } from './commands/clients.js';
import { connectCommand } from './commands/connect.js';
import { disconnectCommand } from './commands/disconnect.js';
import { importCommand } from './commands/import.js';
import { secretCommand } from './commands/secret.js';
import { serveCommand } from './commands/serve.js';
import { loginCommand, tokenCommand } from './commands/token.js';
import { tunnelCommand } from './commands/tunnel.js';

const helpCommand: CliCommand = {
  name: 'help',
  aliases: ['--help', '-h'],
  usage: 'help [command]',
  summary: 'Show this help, or one command’s',
  async run(args, io) {
    const command = args[0] === undefined ? undefined : find(args[0]);
    io.out(command ? commandHelp(command, await io.cliCommand()) : usage(await io.cliCommand()));
    return 0;
  },
};

const versionCommand: CliCommand = {
  name: 'version',
  aliases: ['--version', '-v'],
  usage: 'version',
  summary: 'Print the version',
  async run(_args, io) {
    io.out(`${VERSION}\n`);
    return 0;
  },
};

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CliCommand[] = [
  serveCommand,
  backendsCommand,
  tokenCommand,
  loginCommand,
  approvalsCommand,
  tunnelCommand,
  clientsCommand,
  connectCommand,
  disconnectCommand,
  importCommand,
  secretCommand,
  helpCommand,
  versionCommand,
];

function find(name: string): CliCommand | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

const INDENT = ' '.repeat(13);

function describe(command: CliCommand): string {
  return [`  ${command.usage}`, ...[command.summary, ...(command.details ?? [])].map((l) => INDENT + l)].join('\n');
}

/** The help text; `cli` is how this CLI is typed here (resolveCliCommand). */
export function usage(cli: string): string {
  return (
    `Usage: ${cli} <command> [options]\n\n` +
    `Commands (each also takes --config FILE and --data-dir DIR; "${cli} <command> --help" shows one):\n` +
    COMMANDS.map(describe).join('\n') +
    '\n'
  );
}

function commandHelp(command: CliCommand, cli: string): string {
  return `Usage: ${cli} ${command.usage}\n\n${describe(command)}\n`;
}

/** Runs one command line; answers the exit status, or throws the GatewayError that decides it. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) return helpCommand.run([], io);
  const command = find(name);
  if (!command) throw usageError(`unknown command "${name}" (try: ${await io.cliCommand()} help)`);
  if (command !== helpCommand && (rest.includes('--help') || rest.includes('-h'))) {
    io.out(commandHelp(command, await io.cliCommand()));
    return 0;
  }
  return command.run(rest, io);
}
