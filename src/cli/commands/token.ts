/** `cortex-gateway token create|list|revoke` and `login`: the running gateway's owner credentials. */
import { locateGateway, ownerCall, parseCommand, usageError, type CliCommand, type Write } from '../common.js';

/** "90s", "30m", "12h", "30d" or plain seconds. */
export function parseTtl(value: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) throw usageError(`--ttl: use a number with s, m, h or d (e.g. 1h, 30d), got "${value}"`, '--ttl');
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

async function token(args: string[], out: Write, err: Write): Promise<number> {
  const [sub, ...rest] = args;
  // The positional id of "revoke" is read from rest[0] below.
  const { values: flags } = parseCommand(
    rest,
    {
      scope: { type: 'string', multiple: true },
      ttl: { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean' },
    },
    sub === 'revoke',
  );
  const place = await locateGateway(flags, 'none');
  if (sub === 'create') {
    const scopes = flags.scope ?? [];
    if (scopes.length === 0) {
      throw usageError('token create: give at least one --scope (e.g. --scope mcp:github:read, or --scope "*")');
    }
    const created = await ownerCall<{ id: string; token: string; expiresAt: number }>(place, 'POST', '/api/tokens', {
      name: flags.name ?? 'cli token',
      scopes: scopes.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean),
      ttlSeconds: flags.ttl !== undefined ? parseTtl(flags.ttl) : 30 * 86400,
    });
    out(flags.json ? JSON.stringify(created) + '\n' : `${created.token}\n`);
    err(`Token ${created.id} expires ${new Date(created.expiresAt).toISOString()}. It is shown only once.\n`);
    return 0;
  }
  if (sub === 'list') {
    const list = await ownerCall<
      Array<{ id: string; name: string; scopes: string[]; expiresAt: number; revokedAt?: number }>
    >(place, 'GET', '/api/tokens');
    if (flags.json) out(JSON.stringify(list, null, 2) + '\n');
    else
      for (const t of list)
        out(
          `${t.id}  ${t.name}  ${t.scopes.join(' ')}  ${t.revokedAt ? 'revoked' : `expires ${new Date(t.expiresAt).toISOString()}`}\n`,
        );
    return 0;
  }
  if (sub === 'revoke') {
    const id = rest[0] && !rest[0].startsWith('-') ? rest[0] : undefined;
    if (!id) throw usageError('token revoke: give the token id (see "cortex-gateway token list")');
    await ownerCall(place, 'DELETE', `/api/tokens/${encodeURIComponent(id)}`);
    out(`revoked ${id}\n`);
    return 0;
  }
  throw usageError('usage: cortex-gateway token create|list|revoke (try: cortex-gateway help)');
}

export const tokenCommand: CliCommand = {
  name: 'token',
  usage: 'token create --scope S [--scope S…] [--ttl 30d] [--name N] | token list | token revoke ID',
  summary: 'Personal access tokens of the running gateway, for scripts and clients without OAuth',
  details: ['create prints a new one ("*" = every scope); --json'],
  run: (args, io) => token(args, io.out, io.err),
};

export const loginCommand: CliCommand = {
  name: 'login',
  usage: 'login',
  summary: "Print a new one-time sign-in link to the running gateway's console",
  async run(args, io) {
    const { values } = parseCommand(args, {});
    const { url } = await ownerCall<{ url: string }>(await locateGateway(values, 'none'), 'POST', '/api/login-links');
    io.out(`${url}\n`);
    return 0;
  },
};
