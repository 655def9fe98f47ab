/** `cortex-gateway import <client> [--only a,b] [--replace] [--dry-run]`: the CLI side of src/clients/import.ts. */
import type { ImportCandidateView, ImportPreview, ImportResult } from '../../clients/index.js';
import { existingBackends, previewImport, runImport } from '../../clients/import.js';
import { createConfigEditor } from '../../config/editor.js';
import { openKeyFileSecretStore } from '../../store/secrets.js';
import {
  callOwnerApi,
  configuredMcpUrl,
  locateGateway,
  parseCommand,
  usageError,
  type CliCommand,
  type Write,
} from '../common.js';
import { clientArgument, clientNames } from './clients.js';

function describeServer(s: ImportCandidateView): string {
  const notes = [
    s.backend !== s.name ? `as "${s.backend}"` : '',
    s.secrets.length ? `secrets: ${s.secrets.join(', ')}` : '',
    s.problem ?? '',
  ].filter(Boolean);
  return `  ${s.name}  ${s.kind}  ${s.target}${notes.length ? `  (${notes.join('; ')})` : ''}\n`;
}

function formatPreview(preview: ImportPreview): string {
  if (preview.servers.length === 0) return `No servers in ${preview.configPath}.\n`;
  const groups: Array<[ImportCandidateView['status'], string]> = [
    ['new', 'Would import'],
    ['present', 'Already in the gateway'],
    ['blocked', 'Cannot import'],
  ];
  let out = `Servers in ${preview.configPath}:\n`;
  for (const [status, title] of groups) {
    const servers = preview.servers.filter((s) => s.status === status);
    if (servers.length) out += `${title}:\n${servers.map(describeServer).join('')}`;
  }
  return out;
}

function formatResult(result: ImportResult): string {
  let out = result.imported.length
    ? `Imported into the gateway:\n${result.imported.map(describeServer).join('')}`
    : 'Nothing new to import.\n';
  if (result.skipped.length) out += `Skipped:\n${result.skipped.map((s) => `  ${s.name}: ${s.reason}\n`).join('')}`;
  if (result.replaced) {
    out += `${result.replaced.message}\n  Config: ${result.replaced.configPath}\n`;
    if (result.replaced.backupPath) out += `  Backup: ${result.replaced.backupPath}\n`;
  }
  return out;
}

async function importServers(args: string[], out: Write, err: Write): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    {
      only: { type: 'string', multiple: true },
      replace: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    true,
  );
  const client = clientArgument(positionals, 'import');
  const only = values.only
    ?.flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  const { loaded, running } = await locateGateway(values, 'create');
  const path = `/api/import/${encodeURIComponent(client)}`;
  const input = { ...(only ? { servers: only } : {}), replace: values.replace === true };

  if (values['dry-run']) {
    const preview = running
      ? await callOwnerApi<ImportPreview>(running, 'GET', path)
      : await previewImport(client, { existing: existingBackends(loaded.config.backends) });
    out(values.json ? JSON.stringify(preview, null, 2) + '\n' : formatPreview(preview));
    return 0;
  }

  let result: ImportResult;
  if (running) {
    result = await callOwnerApi<ImportResult>(running, 'POST', path, input);
  } else {
    const secrets = await openKeyFileSecretStore(loaded.dataDir);
    // No gateway: straight to the file, in turn with any other process editing it (a lock beside it).
    const editor = createConfigEditor({ path: loaded.configPath, secrets });
    if (input.replace && loaded.config.gateway.port === 0) {
      throw usageError('--replace: gateway.port is 0 (a new port at every start): start the gateway first');
    }
    result = await runImport(client, {
      existing: existingBackends(loaded.config.backends),
      ...(only ? { only } : {}),
      replace: input.replace,
      gatewayUrl: configuredMcpUrl(loaded.config.gateway),
      edit: (change) => editor.editServers(change),
    });
  }
  for (const warning of result.replaced?.warnings ?? []) err(`warning: ${warning}\n`);
  out(values.json ? JSON.stringify(result, null, 2) + '\n' : formatResult(result));
  return 0;
}

export const importCommand: CliCommand = {
  name: 'import',
  usage: 'import <client> [--only a,b] [--replace] [--dry-run]',
  summary: 'Add the servers configured in that app as gateway backends (credentials go to the secret store)',
  details: [
    '--replace also switches the app to the gateway entry (its config is backed up first);',
    '--dry-run shows what would happen. --json',
    `<client>: ${clientNames()}`,
  ],
  run: (args, io) => importServers(args, io.out, io.err),
};
