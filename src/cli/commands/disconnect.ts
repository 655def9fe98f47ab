/** `cortex-gateway disconnect <client>`: removes only the gateway's entry from that app's MCP config. */
import { disconnectClient, getClient } from '../../clients/index.js';
import { parseCommand, type CliCommand } from '../common.js';
import { CLIENT_OPTIONS, clientArgument, formatChange } from './clients.js';

export const disconnectCommand: CliCommand = {
  name: 'disconnect',
  usage: 'disconnect <client>',
  summary: "Remove only the gateway's entry from that app's MCP config",
  async run(args, io) {
    const { values, positionals } = parseCommand(args, CLIENT_OPTIONS, true);
    const change = await disconnectClient(getClient(clientArgument(positionals, 'disconnect')));
    io.out(values.json ? JSON.stringify(change, null, 2) + '\n' : formatChange(change));
    return 0;
  },
};
