import { spawn } from 'node:child_process';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, afterAll, beforeAll, expect, it as base } from 'vitest';
import { findInspector, INSPECTOR_VERSION, type FoundInspector } from '../../scripts/inspector.mjs';
import type { ActivityEntry } from '../../src/mcp/types.js';
import {
  connectClient,
  EVERYTHING,
  nodeBackend,
  startGateway,
  tempDir,
  TOY,
  waitFor,
  type RunningGateway,
  type TempDir,
} from '../helpers/gateway.js';

// The MCP Inspector's CLI (npm @modelcontextprotocol/inspector, pinned in scripts/inspector.mjs) run
// as a child process against a real gateway with real backends, as a developer runs it by hand:
//   mcp-inspector --cli <gateway>/mcp --transport http --method tools/call --tool-name toy__echo \
//     --tool-arg text=hi --header "Authorization: Bearer <token>"
// It needs Node 22; `npm run inspector:install` puts both into .inspector/ (CI does so before the
// tests). Skipped only outside CI when missing: under CI a missing Inspector must fail, not hide the test.
const found = findInspector();

const require = createRequire(import.meta.url);
const MCP_REMOTE = join(dirname(require.resolve('mcp-remote/package.json')), 'dist/proxy.js');

const it = base.extend<{ inspector: Extract<FoundInspector, { ok: true }> }>({
  inspector: async ({ skip }, use) => {
    if (found.ok) return use(found);
    if (process.env.CI) throw new Error(`CI=true and ${found.missing}`);
    skip(found.missing);
  },
});

/** What one Inspector run printed: with --format json, the result on stdout or the error envelope on stderr. */
interface InspectorRun {
  code: number | null;
  result: Record<string, unknown> | undefined;
  error: { code: string; message: string; status?: number } | undefined;
  stderr: string;
}

/** One run of `mcp-inspector --cli …`, no stdin, its state in its own HOME. */
function runInspector(
  inspector: { node: string; cli: string },
  home: string,
  args: string[],
  timeoutMs = 45_000,
): Promise<InspectorRun> {
  return new Promise((resolve, reject) => {
    // --stored-auth-only: never start an interactive OAuth login (the Inspector's advice for CI);
    // without a TTY it refuses one anyway, but with a less telling message. Before `args`, which
    // may end with `-- <command>` for stdio.
    const child = spawn(inspector.node, [inspector.cli, '--cli', '--format', 'json', '--stored-auth-only', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: home, USERPROFILE: home, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the Inspector did not finish in ${timeoutMs} ms: ${stderr.slice(-800)}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const envelope = stderr
        .split('\n')
        .reverse()
        .find((line) => line.startsWith('{"error"'));
      resolve({
        code,
        result: stdout.trim() ? (JSON.parse(stdout) as { result: Record<string, unknown> }).result : undefined,
        error: envelope ? (JSON.parse(envelope) as { error: InspectorRun['error'] }).error : undefined,
        stderr,
      });
    });
  });
}

/** One HTTP exchange through the relay, as the gateway saw it. */
interface Exchange {
  method: string;
  path: string;
  status: number;
  /** The JSON-RPC method of a POST (the first, for a batch). */
  rpc: string | undefined;
  protocolVersion: string | undefined;
  session: string | undefined;
  authorization: boolean;
}

/**
 * A loopback relay in front of /mcp that records every exchange, so a test can see what went over
 * the wire (the status of a refusal, the protocol version and session of each request). It passes
 * requests and answers through unchanged, streams included.
 */
async function recordingRelay(target: URL) {
  const exchanges: Exchange[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          exchanges.push({
            method: req.method ?? '',
            path: req.url ?? '',
            status: answer.statusCode ?? 0,
            rpc: rpcMethod(body),
            protocolVersion: header(req.headers, 'mcp-protocol-version'),
            session: header(req.headers, 'mcp-session-id'),
            authorization: req.headers.authorization !== undefined,
          });
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      // A stream the Inspector leaves open (the GET stream, subscriptions/listen) ends with it.
      res.on('close', () => upstream.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: new URL(`http://127.0.0.1:${port}${target.pathname}`),
    exchanges,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function rpcMethod(body: Buffer): string | undefined {
  if (body.length === 0) return undefined;
  try {
    const message = JSON.parse(body.toString()) as { method?: string } | Array<{ method?: string }>;
    return (Array.isArray(message) ? message[0] : message)?.method;
  } catch {
    return undefined;
  }
}

const textOf = (result: Record<string, unknown> | undefined) =>
  ((result?.content ?? []) as Array<{ type: string; text?: string }>).find((c) => c.type === 'text')?.text;

/** Scopes of the Inspector's token: toy's read-only tools and everything's; nothing of `hidden`. */
const SCOPES = ['mcp:toy:read', 'mcp:everything:read'];

// Each run starts Node 22 and the Inspector's bundle (1 to 5 s on a loaded CI machine); a test makes at most two.
describe(`MCP Inspector CLI ${INSPECTOR_VERSION} against the gateway`, { timeout: 90_000 }, () => {
  let gw: RunningGateway;
  let home: TempDir;
  let token: string;
  let clientId: string;
  /** What the SDK's own client lists with the same token: the Inspector must see exactly that. */
  let granted: { tools: string[]; prompts: string[]; resources: string[] };

  beforeAll(async () => {
    if (!found.ok) {
      // Each test says so too (`skip` with the reason), but only the verbose reporter shows it.
      if (!process.env.CI) console.warn(`MCP Inspector tests skipped: ${found.missing}`);
      return;
    }
    home = await tempDir('cortex-inspector-');
    gw = await startGateway({
      toy: nodeBackend(TOY),
      everything: nodeBackend(EVERYTHING),
      // A backend the token has no scope for: none of its tools may show.
      hidden: nodeBackend(TOY, [], { TOY_NAME: 'hidden' }),
    });
    await waitFor(() => gw.gateway.backendStatuses().every((b) => b.state === 'ready'), 'every backend ready', 30_000);
    ({ token, id: clientId } = await gw.gateway.createPersonalToken({
      name: 'inspector',
      scopes: SCOPES,
      ttlSeconds: 3600,
    }));
    await using sdk = await connectClient(gw.mcpUrl, token);
    granted = {
      tools: (await sdk.client.listTools()).tools.map((t) => t.name).sort(),
      prompts: (await sdk.client.listPrompts()).prompts.map((p) => p.name).sort(),
      resources: (await sdk.client.listResources()).resources.map((r) => r.uri).sort(),
    };
  }, 60_000);

  afterAll(async () => {
    await gw?.[Symbol.asyncDispose]();
    await home?.[Symbol.asyncDispose]();
  });

  const bearer = () => ['--header', `Authorization: Bearer ${token}`];

  it('calls a tool with an argument, as run by hand (Streamable HTTP, bearer header)', async ({ inspector }) => {
    const run = await runInspector(inspector, home.path, [
      gw.mcpUrl.href,
      '--transport',
      'http',
      '--method',
      'tools/call',
      '--tool-name',
      'toy__echo',
      '--tool-arg',
      'text=hi',
      ...bearer(),
    ]);
    expect(run.error).toBeUndefined();
    expect(run.code).toBe(0);
    expect(textOf(run.result)).toBe('hi');
    // The gateway served it to the token's client, through the toy backend.
    const res = await fetch(new URL('/api/activity', gw.mcpUrl), {
      headers: { authorization: `Bearer ${gw.gateway.ownerToken}` },
    });
    const entries = ((await res.json()) as { value: ActivityEntry[] }).value;
    expect(entries.find((e) => e.tool === 'toy__echo')).toMatchObject({
      clientId,
      backend: 'toy',
      outcome: 'ok',
      argumentKeys: ['text'],
    });
  });

  /** Runs the Inspector over Streamable HTTP through a recording relay: its output, and what went over the wire. */
  async function viaRelay(
    inspector: { node: string; cli: string },
    era: string,
    args: string[],
    auth = bearer(),
  ): Promise<{ run: InspectorRun; exchanges: Exchange[] }> {
    await using relay = await recordingRelay(gw.mcpUrl);
    const run = await runInspector(inspector, home.path, [
      relay.url.href,
      '--transport',
      'http',
      '--protocol-era',
      era,
      ...args,
      ...auth,
    ]);
    return { run, exchanges: [...relay.exchanges] };
  }

  /** Every request served after the version was settled carried that version, and a session only before 2026-07-28. */
  function expectRevision(exchanges: Exchange[], revision: string) {
    const sessions = revision !== '2026-07-28';
    const served = exchanges.filter((e) => e.method === 'POST' && e.status < 300 && e.rpc !== 'initialize');
    expect(served.length).toBeGreaterThan(0);
    for (const e of served) expect(e.protocolVersion).toBe(revision);
    expect(exchanges.some((e) => e.rpc === 'initialize' && e.status === 200)).toBe(sessions);
    expect(served.every((e) => e.session !== undefined)).toBe(sessions);
  }

  // The Inspector's protocol eras over Streamable HTTP, the one transport the gateway serves:
  // `legacy` (initialize and a session, 2025-11-25; the default for a URL on the command line) and
  // `modern` (2026-07-28, stateless: server/discover, no session).
  describe.each([
    { era: 'legacy', revision: '2025-11-25' },
    { era: 'modern', revision: '2026-07-28' },
  ])('--protocol-era $era ($revision)', ({ era, revision }) => {
    it('lists only the granted tools, each named <backend>__<tool>', async ({ inspector }) => {
      const { run, exchanges } = await viaRelay(inspector, era, ['--method', 'tools/list']);
      expect(run.error).toBeUndefined();
      const names = (run.result?.tools as Array<{ name: string }>).map((t) => t.name).sort();
      expect(names).toEqual(granted.tools);
      expect(names).toEqual(expect.arrayContaining(['whoami', 'find_tools', 'toy__echo']));
      for (const name of names.filter((n) => n !== 'whoami' && n !== 'find_tools')) {
        expect(name).toMatch(/^(toy|everything)__[A-Za-z0-9_-]+$/);
      }
      // toy's tools without readOnlyHint need mcp:toy:write.
      expect(names).not.toContain('toy__count');
      expectRevision(exchanges, revision);
    });

    it('calls a tool with an argument', async ({ inspector }) => {
      const { run, exchanges } = await viaRelay(inspector, era, [
        '--method',
        'tools/call',
        '--tool-name',
        'toy__echo',
        '--tool-arg',
        'text=hi',
      ]);
      expect(run.error).toBeUndefined();
      expect(run.code).toBe(0);
      expect(textOf(run.result)).toBe('hi');
      expect(exchanges.filter((e) => e.rpc === 'tools/call').map((e) => e.status)).toEqual([200]);
      expectRevision(exchanges, revision);
    });

    it('lists and gets the granted prompts', async ({ inspector }) => {
      const list = await viaRelay(inspector, era, ['--method', 'prompts/list']);
      expect(list.run.error).toBeUndefined();
      const names = (list.run.result?.prompts as Array<{ name: string }>).map((p) => p.name).sort();
      expect(names).toEqual(granted.prompts);
      expect(names).toContain('everything__args-prompt');
      expectRevision(list.exchanges, revision);

      const get = await viaRelay(inspector, era, [
        '--method',
        'prompts/get',
        '--prompt-name',
        'everything__args-prompt',
        '--prompt-args',
        'city=Lisbon',
      ]);
      expect(get.run.error).toBeUndefined();
      expect(JSON.stringify(get.run.result?.messages)).toContain('Lisbon');
    });

    it('lists and reads the granted resources', async ({ inspector }) => {
      const list = await viaRelay(inspector, era, ['--method', 'resources/list']);
      expect(list.run.error).toBeUndefined();
      const uris = (list.run.result?.resources as Array<{ uri: string }>).map((r) => r.uri).sort();
      expect(uris).toEqual(granted.resources);
      expect(uris.length).toBeGreaterThan(0);
      expectRevision(list.exchanges, revision);

      const uri = uris.find((u) => u.endsWith('.md'))!;
      const read = await viaRelay(inspector, era, ['--method', 'resources/read', '--uri', uri]);
      expect(read.run.error).toBeUndefined();
      expect(read.run.result?.contents).toEqual([expect.objectContaining({ uri, text: expect.any(String) })]);
    });

    it('is refused with 401 without a token, and exits auth_required', async ({ inspector }) => {
      const { run, exchanges } = await viaRelay(inspector, era, ['--method', 'tools/list'], []);
      expect(run.code).toBe(3);
      expect(run.error?.code).toBe('auth_required');
      const mcp = exchanges.filter((e) => e.path === '/mcp');
      expect(mcp.length).toBeGreaterThan(0);
      expect(mcp.every((e) => e.status === 401 && !e.authorization)).toBe(true);
    });
  });

  it('--protocol-era auto settles on 2026-07-28', async ({ inspector }) => {
    const { run, exchanges } = await viaRelay(inspector, 'auto', [
      '--method',
      'tools/call',
      '--tool-name',
      'toy__echo',
      '--tool-arg',
      'text=auto',
    ]);
    expect(run.error).toBeUndefined();
    expect(textOf(run.result)).toBe('auto');
    expectRevision(exchanges, '2026-07-28');
  });

  it('is refused with a token that is not the gateway’s', async ({ inspector }) => {
    const run = await runInspector(inspector, home.path, [
      gw.mcpUrl.href,
      '--transport',
      'http',
      '--method',
      'tools/list',
      '--header',
      'Authorization: Bearer not-a-token',
    ]);
    expect(run.code).toBe(3);
    expect(run.error?.code).toBe('auth_required');
    expect(run.error?.message).toContain('invalid_token');
  });

  it('reports a tool outside the grant as not found, without calling it', async ({ inspector }) => {
    // The Inspector looks the tool up in tools/list before calling it; the gateway's list leaves out
    // what the token may not call, so the call (which the gateway would refuse with 403) is never sent.
    await using relay = await recordingRelay(gw.mcpUrl);
    const run = await runInspector(inspector, home.path, [
      relay.url.href,
      '--transport',
      'http',
      '--method',
      'tools/call',
      '--tool-name',
      'toy__count',
      ...bearer(),
    ]);
    expect(run.code).toBe(5);
    expect(run.error?.code).toBe('tool_not_found');
    expect(relay.exchanges.some((e) => e.rpc === 'tools/call')).toBe(false);
  });

  it('gets a clear 400 over the deprecated HTTP+SSE transport, which the gateway does not serve', async ({
    inspector,
  }) => {
    const run = await runInspector(inspector, home.path, [
      gw.mcpUrl.href,
      '--transport',
      'sse',
      '--method',
      'tools/list',
      ...bearer(),
    ]);
    expect(run.code).not.toBe(0);
    expect(run.error).toMatchObject({ status: 400 });
  });

  it('reaches the gateway over stdio through mcp-remote, the token as a header', async ({ inspector }) => {
    // The Inspector's third transport. The gateway serves no stdio; a stdio-only client reaches it
    // through mcp-remote (as Claude Desktop does), here with a personal access token instead of OAuth.
    const run = await runInspector(inspector, home.path, [
      '--transport',
      'stdio',
      '--method',
      'tools/call',
      '--tool-name',
      'toy__echo',
      '--tool-arg',
      'text=over stdio',
      '--',
      process.execPath,
      MCP_REMOTE,
      gw.mcpUrl.href,
      '--header',
      `Authorization:Bearer ${token}`,
    ]);
    expect(run.error).toBeUndefined();
    expect(textOf(run.result)).toBe('over stdio');
  });
});
