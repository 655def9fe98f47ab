import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, connectClient, isAlive, nodeBackend, ROOT, text, TOY, waitFor } from '../helpers/gateway.js';
import { consoleSignIn, redeemLink } from '../helpers/console-session.js';
import { authorizationRequest } from '../helpers/oauth.js';

const ENV_SERVER = join(ROOT, 'test/fixtures/env-server.mjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = cli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('cortex-gateway CLI', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-cli-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  async function writeConfig(config: unknown): Promise<string> {
    const path = join(dir, 'cortex.config.json');
    await writeFile(path, JSON.stringify(config));
    return path;
  }

  /** Starts `serve` and waits for its ready file. */
  async function serve(configPath: string, extra: string[] = []) {
    const readyFile = join(dir, 'ready.json');
    const child = cli([
      'serve',
      '--config',
      configPath,
      '--data-dir',
      join(dir, 'data'),
      '--ready-file',
      readyFile,
      ...extra,
    ]);
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const ready = await waitFor(
      async () => JSON.parse(await readFile(readyFile, 'utf8')) as { mcpUrl: string; consoleUrl: string; pid: number },
      `ready file (stderr: ${stderr})`,
    );
    await waitFor(() => stdout.includes('MCP endpoint'), 'printed URL');
    return { child, ready, output: () => ({ stdout, stderr }) };
  }

  it('exits non-zero naming the JSON path of an invalid config', async () => {
    const path = await writeConfig({ mcpServers: { everything: { command: 42 } } });
    const result = await run(['serve', '--config', path, '--port', '0']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/mcpServers\.everything/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names the path of a bad nested value', async () => {
    const path = await writeConfig({ mcpServers: { remote: { type: 'http', url: 'not a url' } } });
    const result = await run(['serve', '--config', path, '--port', '0']);
    expect(result.code).toBe(65); // config_invalid: EX_DATAERR
    expect(result.stderr).toBe(`cortex-gateway: ${path}: must be an absolute http(s) URL (mcpServers.remote.url)\n`);
  });

  it('exits non-zero on a config that is not JSON, naming the file', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{ "mcpServers": ');
    const result = await run(['serve', '--config', path]);
    expect(result.code).toBe(65); // config_invalid: EX_DATAERR
    expect(result.stderr).toContain(`${path}: not valid JSON`);
  });

  it('exits non-zero on an unknown flag', async () => {
    const result = await run(['serve', '--prot', '1']);
    expect(result.code).toBe(64); // invalid_argument: EX_USAGE
    expect(result.stderr).toMatch(/--prot/);
  });

  it('warns in one line when bound to an address other machines reach, and prints each sign-in waiting', async () => {
    const path = await writeConfig({ mcpServers: { toy: nodeBackend(TOY) } });
    const { ready, output } = await serve(path, ['--port', '0', '--host', '0.0.0.0']);
    await waitFor(() => output().stderr.includes('other machines can reach'), 'the warning');
    const warning = output()
      .stderr.split('\n')
      .filter((line) => line.includes('other machines can reach'));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatch(/ warn +listening on 0\.0\.0\.0, which other machines can reach: .* approvals"/);

    // A sign-in there waits for the owner, and the terminal says so with the code the page shows.
    const reg = (await (
      await fetch(new URL('/register', ready.mcpUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:5558/cb'], client_name: 'Remote App' }),
      })
    ).json()) as { client_id: string };
    const { url } = authorizationRequest(ready.mcpUrl, {
      clientId: reg.client_id,
      redirectUri: 'http://127.0.0.1:5558/cb',
      scope: null,
    });
    const page = await (await fetch(url)).text();
    const code = /id="request-code">([^<]+)</.exec(page)![1]!;
    expect(page).not.toContain('name="csrf"');
    await waitFor(() => output().stdout.includes(`code ${code}`), 'the approval notice');
    expect(output().stdout).toContain('Approval needed: Remote App (returns to 127.0.0.1:5558, on this machine)');
  });

  it('serves, prints the MCP URL and writes the ready file', async () => {
    const path = await writeConfig({ mcpServers: { toy: nodeBackend(TOY) } });
    const { ready, output } = await serve(path, ['--port', '0']);
    expect(ready.mcpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(ready.consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/app\/$/);
    expect(output().stdout).toContain(ready.mcpUrl);
    expect(output().stderr).not.toContain('other machines can reach');
    const created = await run([
      'token',
      'create',
      '--scope',
      'mcp:toy:read',
      '--name',
      'cli test',
      '--ttl',
      '1h',
      '--data-dir',
      join(dir, 'data'),
    ]);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    await using session = await connectClient(new URL(ready.mcpUrl), token);
    await waitFor(
      async () => (await session.client.listTools()).tools.some((t) => t.name === 'toy__echo'),
      'toy tools',
    );
    const result = await session.client.callTool({ name: 'toy__echo', arguments: { text: 'via cli' } });
    expect(text(result)).toBe('via cli');
    // A read grant does not list write tools.
    const names = (await session.client.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain('toy__add_tool');
    const list = await run(['token', 'list', '--json', '--data-dir', join(dir, 'data')]);
    const [pat] = JSON.parse(list.stdout) as Array<{ id: string; name: string }>;
    expect(pat!.name).toBe('cli test');
    expect((await run(['token', 'revoke', pat!.id, '--data-dir', join(dir, 'data')])).code).toBe(0);
    await expect(session.client.listTools()).rejects.toThrow(/401|Unauthorized|invalid_token/i);
  });

  it('prints a one-time console sign-in link at start and on "login"', async () => {
    const path = await writeConfig({ mcpServers: {} });
    const { ready, output } = await serve(path, ['--port', '0']);
    const origin = new URL(ready.mcpUrl).origin;
    expect(output().stdout).toMatch(new RegExp(`Console: +${origin}/app/login\\?token=[\\w-]{43}`));
    const result = await run(['login', '--data-dir', join(dir, 'data')]);
    expect(result.code).toBe(0);
    const link = result.stdout.trim();
    expect(link.startsWith(`${origin}/app/login?token=`)).toBe(true);
    // The console page spends it for a session; a link works once.
    const session = await consoleSignIn(link);
    expect((await fetch(`${origin}/api/backends`, { headers: session.headers() })).status).toBe(200);
    expect((await redeemLink(link)).status).toBe(401);
  });

  it('refuses token create when no gateway runs, saying what to do', async () => {
    const result = await run(['token', 'create', '--scope', '*', '--data-dir', join(dir, 'nothing')]);
    expect(result.code).toBe(69); // not_running: EX_UNAVAILABLE
    expect(result.stderr).toContain('no gateway is running');
  });

  it('keeps the runtime file private (0600) since it holds the owner token', async () => {
    const path = await writeConfig({ mcpServers: {} });
    await serve(path, ['--port', '0']);
    const info = await stat(join(dir, 'data', 'runtime.json'));
    expect(info.mode & 0o777).toBe(0o600);
  });

  it('lists backends with state from the running gateway', async () => {
    const path = await writeConfig({
      mcpServers: { toy: nodeBackend(TOY), broken: { command: 'cortex-no-such-cmd' } },
    });
    await serve(path, ['--port', '0']);
    const listing = await waitFor(async () => {
      const result = await run(['backends', '--config', path, '--data-dir', join(dir, 'data')]);
      return result.stdout.includes('ready') ? result : undefined;
    }, 'backends listing');
    expect(listing.code).toBe(0);
    expect(listing.stdout).toContain('running gateway');
    expect(listing.stdout).toMatch(/toy\s+stdio\s+ready/);
    expect(listing.stdout).toMatch(/broken\s+stdio\s+(down|connecting)/);
  });

  it('shows how many client instances a per-client backend runs, as the console does', async () => {
    const path = await writeConfig({
      mcpServers: { toy: nodeBackend(TOY), mine: nodeBackend(TOY, [], {}, { instances: 'per-client' }) },
    });
    const { ready } = await serve(path, ['--port', '0']);
    const listing = async () => {
      const result = await run(['backends', '--config', path, '--data-dir', join(dir, 'data')]);
      return result.stdout;
    };
    const before = await waitFor(async () => {
      const out = await listing();
      return /mine\s+stdio\s+ready/.test(out) && /toy\s+stdio\s+ready/.test(out) ? out : undefined;
    }, 'both ready');
    expect(before).toMatch(/mine\s+stdio\s+ready\s+per client: 0\s/);
    expect(before).toMatch(/toy\s+stdio\s+ready\s+-\s/);
    const created = await run(['token', 'create', '--scope', '*', '--data-dir', join(dir, 'data')]);
    await using session = await connectClient(new URL(ready.mcpUrl), created.stdout.trim());
    expect(text(await session.client.callTool({ name: 'mine__echo', arguments: { text: 'mine' } }))).toBe('mine');
    expect(await listing()).toMatch(/mine\s+stdio\s+ready\s+per client: 1\s/);
  });

  it('lists backends by probing them when no gateway runs', async () => {
    const path = await writeConfig({ mcpServers: { toy: nodeBackend(TOY) } });
    const result = await run(['backends', '--config', path, '--data-dir', join(dir, 'data'), '--json']);
    expect(result.code).toBe(0);
    const statuses = JSON.parse(result.stdout) as Array<{ name: string; state: string; toolCount: number }>;
    expect(statuses).toEqual([expect.objectContaining({ name: 'toy', state: 'ready' })]);
    expect(statuses[0]!.toolCount).toBeGreaterThan(3);
  });

  it('probes each backend in its own folder of the data folder, as the gateway runs it', async () => {
    const env = { ENV_PRINT_CWD: '1', ENV_PRINT: 'MARK', MARK: 'x', ENV_EXIT: '1' };
    const path = await writeConfig({ mcpServers: { env: nodeBackend(ENV_SERVER, [], env) } });
    const result = await run(['backends', '--config', path, '--data-dir', join(dir, 'data'), '--json']);
    expect(result.code).toBe(0);
    const [status] = JSON.parse(result.stdout) as Array<{ state: string; lastError?: string; lastStderr?: string[] }>;
    expect(status).toMatchObject({ state: 'down', lastError: 'process exited with code 1 during start-up' });
    expect(status!.lastStderr).toEqual([`cwd=${await realpath(join(dir, 'data', 'servers', 'env'))}`, 'MARK=x']);
  });

  it('stops its children on SIGTERM and SIGINT: no orphans', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const path = await writeConfig({ mcpServers: { a: nodeBackend(TOY), b: nodeBackend(TOY) } });
      const { child, ready } = await serve(path, ['--port', '0']);
      const statuses = await waitFor(async () => {
        const runtime = JSON.parse(await readFile(join(dir, 'data', 'runtime.json'), 'utf8')) as { ownerToken: string };
        const res = await fetch(new URL('/api/backends', ready.mcpUrl), {
          headers: { authorization: `Bearer ${runtime.ownerToken}` },
        });
        const list = ((await res.json()) as { value: Array<{ pid?: number; state: string }> }).value;
        return list.every((s) => s.state === 'ready') ? list : undefined;
      }, 'children ready');
      const pids = statuses.map((s) => s.pid!);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill(signal);
      expect(await exited).toBe(0);
      for (const pid of pids) expect(isAlive(pid), `${signal}: child ${pid}`).toBe(false);
      await rm(join(dir, 'ready.json'), { force: true });
    }
  });

  it('refuses a port that is explicitly asked for and busy, with a clear message', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const path = await writeConfig({ mcpServers: {} });
      const result = await run(['serve', '--config', path, '--data-dir', join(dir, 'data'), '--port', String(port)]);
      expect(result.code).toBe(69); // port_in_use: EX_UNAVAILABLE
      expect(result.stderr).toContain(`Port ${port} on 127.0.0.1 is in use`);
    } finally {
      blocker.close();
    }
  });
});
