/** `cortex-gateway connect <client> [--url URL]`: adds the gateway to that app's MCP config. */
import { connectClient, getClient } from '../../clients/index.js';
import { parseCommand, type CliCommand } from '../common.js';
import { CLIENT_OPTIONS, clientArgument, clientNames, formatChange, gatewayUrl } from './clients.js';

export const connectCommand: CliCommand = {
  name: 'connect',
  usage: 'connect <client> [--url URL]',
  summary: "Add the gateway to that app's MCP config (a backup of the file is kept next to it)",
  details: ["URL: the running gateway's, else http://127.0.0.1:<configured port>/mcp", `<client>: ${clientNames()}`],
  async run(args, io) {
    const { values, positionals } = parseCommand(args, CLIENT_OPTIONS, true);
    const client = clientArgument(positionals, 'connect');
    const target = await gatewayUrl(values);
    const change = await connectClient(getClient(client), target.url);
    for (const warning of [...target.warnings, ...change.warnings]) io.err(`warning: ${warning}\n`);
    io.out(values.json ? JSON.stringify(change, null, 2) + '\n' : formatChange(change));
    return 0;
  },
};
