/**
 * `npm run bench`: the same client load against a backend directly and through the gateway, in
 * one run, reported as ratios to direct. Everything runs on loopback, bounded in count and time.
 *
 *   BENCH_QUICK=1        shorter phases (for a smoke run)
 *   BENCH_PROFILE_DIR=d  the gateway processes write V8 CPU profiles into d
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { NodeStreamableHttpClientTransport } from '../src/backends/http-client-transport.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOY = join(ROOT, 'test/fixtures/toy-server.mjs');
/** A backend that speaks only 2026-07-28 (SDK 2.x), for the modern era's direct baseline. */
const MODERN = join(ROOT, 'test/fixtures/modern-server.mjs');
const GATEWAY_CLI = join(ROOT, 'dist/cortex-gateway.mjs');
const QUICK = process.env.BENCH_QUICK === '1';
// V8 CPU profiles of the gateway processes, for finding where a relayed call's time goes.
const PROFILE_ARGS = process.env.BENCH_PROFILE_DIR
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
  : [];
const SEQUENTIAL_CALLS = QUICK ? 300 : 3000;
const WARMUP_CALLS = QUICK ? 100 : 1000;
const CPU_LOAD_CALLS = QUICK ? 1000 : 5000;
const THROUGHPUT_MS = QUICK ? 1000 : 4000;
const LIST_RUNS = QUICK ? 10 : 40;

const children: ChildProcess[] = [];
const tempDirs: string[] = [];

function track(child: ChildProcess): ChildProcess {
  children.push(child);
  return child;
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = 60_000): Promise<RegExpExecArray> {
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolvePromise(match);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${out}`));
    });
  });
}

async function startToyHttp(): Promise<string> {
  const child = track(
    spawn(process.execPath, [TOY], { env: { ...process.env, TOY_HTTP: '1' }, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  const match = await waitForLine(child, /LISTENING (\d+)/, 'toy HTTP backend');
  return `http://127.0.0.1:${match[1]}/mcp`;
}

interface StartedGateway {
  url: string;
  pid: number;
  spawnedAt: number;
  child: ChildProcess;
  /** A personal access token with every scope, minted through the owner API after start. */
  token: string;
  /** How long minting the token took; not part of the gateway's start-up. */
  tokenMs: number;
}

async function startGateway(mcpServers: Record<string, unknown>): Promise<StartedGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'cortex-bench-'));
  tempDirs.push(dir);
  const config = join(dir, 'cortex.config.json');
  await writeFile(config, JSON.stringify({ mcpServers, gateway: { port: 0 } }));
  const spawnedAt = performance.now();
  const child = track(
    spawn(
      process.execPath,
      [...PROFILE_ARGS, GATEWAY_CLI, 'serve', '--config', config, '--data-dir', dir, '--log-level', 'error'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  const match = await waitForLine(child, /MCP endpoint: (\S+)/, 'gateway');
  const url = match[1]!;
  const t0 = performance.now();
  const runtime = JSON.parse(await readFile(join(dir, 'runtime.json'), 'utf8')) as { ownerToken: string };
  const res = await fetch(new URL('/api/tokens', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${runtime.ownerToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', scopes: ['*'], ttlSeconds: 3600 }),
  });
  const { value } = (await res.json()) as { value: { token: string } };
  return { url, pid: child.pid!, spawnedAt, child, token: value.token, tokenMs: performance.now() - t0 };
}

/**
 * The load client: the SDK Client over our node:http Streamable HTTP transport, the same for the
 * direct and the gateway runs. (The SDK's fetch-based transport leaks an abort listener per request
 * on Node 20, which slows a long run down by itself and would blur the comparison.)
 */
async function connect(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1' });
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  await client.connect(new NodeStreamableHttpClientTransport(new URL(url), { headers }));
  return client;
}

/** What a client under test needs: one tools/call. */
type Caller = (tool: string, text: string) => Promise<unknown>;

/**
 * The SDK's own clients with their stock Streamable HTTP transports, as apps use them: 1.x for the
 * 2025 revisions, 2.x pinned to 2026-07-28.
 */
async function stockClient(url: string, era: 'legacy' | 'modern', token?: string) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (era === 'legacy') {
    const client = new Client({ name: 'bench-stock', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
    const call: Caller = (name, text) => client.callTool({ name, arguments: { text } });
    return { call, close: () => client.close() };
  }
  const client = new ModernClient(
    { name: 'bench-stock', version: '1' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  await client.connect(new ModernTransport(new URL(url), { requestInit: { headers } }));
  const call: Caller = (name, text) => client.callTool({ name, arguments: { text } });
  return { call, close: () => client.close() };
}

async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (1/100 s)
}

/**
 * One era, one backend: direct and through the gateway, call by call in alternation, with the
 * gateway's CPU (from /proc) over the gateway's calls.
 */
async function alternating(direct: Caller, directTool: string, viaGateway: Caller, gatewayTool: string, pid: number) {
  for (let i = 0; i < WARMUP_CALLS; i++) {
    await direct(directTool, 'warm');
    await viaGateway(gatewayTool, 'warm');
  }
  const directSamples: number[] = [];
  const gatewaySamples: number[] = [];
  const ticks = await cpuTicks(pid);
  for (let i = 0; i < SEQUENTIAL_CALLS; i++) {
    let t0 = performance.now();
    await direct(directTool, `call ${i}`);
    directSamples.push(performance.now() - t0);
    t0 = performance.now();
    await viaGateway(gatewayTool, `call ${i}`);
    gatewaySamples.push(performance.now() - t0);
  }
  const sequentialCpuUs = (((await cpuTicks(pid)) - ticks) * 10_000) / SEQUENTIAL_CALLS;
  directSamples.sort((a, b) => a - b);
  gatewaySamples.sort((a, b) => a - b);
  const direct50 = percentile(directSamples, 50);
  const gateway50 = percentile(gatewaySamples, 50);
  return {
    directP50: direct50,
    gatewayP50: gateway50,
    addedP50: gateway50 - direct50,
    sequentialCpuUsPerCall: sequentialCpuUs,
    cpuUsPerCall: await cpuUnderLoad(viaGateway, gatewayTool, pid),
  };
}

/**
 * The gateway's CPU per relayed call while it is kept busy (CPU_LOAD_CALLS calls, 32 in flight):
 * the work a call costs it. In the sequential run above the gateway sleeps between calls, and each
 * call also pays for waking it (epoll, timers, the kernel's scheduling), several times the work on
 * this VM; that figure is reported beside it.
 */
async function cpuUnderLoad(viaGateway: Caller, tool: string, pid: number): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next++ < CPU_LOAD_CALLS) await viaGateway(tool, 'load');
  };
  const ticks = await cpuTicks(pid);
  await Promise.all(Array.from({ length: 32 }, worker));
  return (((await cpuTicks(pid)) - ticks) * 10_000) / CPU_LOAD_CALLS;
}

async function startModernHttp(): Promise<string> {
  const child = track(
    spawn(process.execPath, [MODERN], {
      env: { ...process.env, MODERN_HTTP: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const match = await waitForLine(child, /LISTENING (\d+)/, '2026-07-28 HTTP backend');
  return `http://127.0.0.1:${match[1]}/mcp`;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Sequential latency, direct and through the gateway measured call by call in alternation, so
 * drift on a shared machine (other load, CPU frequency, GC) affects both sides alike.
 */
async function sequential(direct: Client, viaGateway: Client) {
  for (let i = 0; i < WARMUP_CALLS; i++) {
    await direct.callTool({ name: 'echo', arguments: { text: 'warm' } });
    await viaGateway.callTool({ name: 'toy__echo', arguments: { text: 'warm' } });
  }
  const directSamples: number[] = [];
  const gatewaySamples: number[] = [];
  for (let i = 0; i < SEQUENTIAL_CALLS; i++) {
    let t0 = performance.now();
    await direct.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
    directSamples.push(performance.now() - t0);
    t0 = performance.now();
    await viaGateway.callTool({ name: 'toy__echo', arguments: { text: `call ${i}` } });
    gatewaySamples.push(performance.now() - t0);
  }
  const summary = (samples: number[]) => {
    samples.sort((a, b) => a - b);
    return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  };
  return { direct: summary(directSamples), gateway: summary(gatewaySamples) };
}

async function throughput(client: Client, tool: string, concurrency: number): Promise<number> {
  const deadline = performance.now() + THROUGHPUT_MS;
  let done = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      await client.callTool({ name: tool, arguments: { text: 'load' } });
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done / ((performance.now() - t0) / 1000);
}

/** tools/list over raw HTTP (session set up by hand) so the figure is the gateway's, not the SDK client's zod parse. */
async function rawToolsList(
  url: string,
  token: string,
  runs: number,
): Promise<{ p50: number; parseP50: number; bytes: number; count: number }> {
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    authorization: `Bearer ${token}`,
  };
  const init = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'bench', version: '1' },
      },
    }),
  });
  await init.text();
  const session = init.headers.get('mcp-session-id')!;
  const sessionHeaders = { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
  await fetch(url, {
    method: 'POST',
    headers: sessionHeaders,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  }).then((r) => r.text());
  const samples: number[] = [];
  const parses: number[] = [];
  let count = 0;
  let bytes = 0;
  for (let i = 0; i < runs + 3; i++) {
    const t0 = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: sessionHeaders,
      body: JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/list' }),
    });
    const body = await res.text();
    // The gateway's latency ends when the last byte arrives; the client's JSON.parse is reported apart.
    const t1 = performance.now();
    const data = body.startsWith('{') ? body : body.slice(body.indexOf('data: {') + 6, body.lastIndexOf('}') + 1);
    count = (JSON.parse(data) as { result: { tools: unknown[] } }).result.tools.length;
    bytes = body.length;
    if (i >= 3) {
      samples.push(t1 - t0);
      parses.push(performance.now() - t1);
    }
  }
  samples.sort((a, b) => a - b);
  parses.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), parseP50: percentile(parses, 50), bytes, count };
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out');
}

const fmt = (n: number, digits = 3) => n.toFixed(digits);

async function main() {
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, quick: QUICK };
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    process.stdout.write(line + '\n');
  };

  // (a) direct vs (b) through the gateway, against the same Streamable HTTP backend.
  const backendUrl = await startToyHttp();
  const gateway = await startGateway({ toy: { type: 'http', url: backendUrl } });
  const direct = await connect(backendUrl);
  const viaGateway = await connect(gateway.url, gateway.token);
  await waitUntil(async () => (await viaGateway.listTools()).tools.some((t) => t.name === 'toy__echo'), 30_000);

  log(`Cortex Gateway benchmark (${QUICK ? 'quick' : 'full'} run, node ${process.version})`);
  log('');
  const { direct: seqDirect, gateway: seqGateway } = await sequential(direct, viaGateway);
  results.sequential = { direct: seqDirect, gateway: seqGateway, addedP50Ms: seqGateway.p50 - seqDirect.p50 };
  log(`tools/call, sequential (${SEQUENTIAL_CALLS} calls)`);
  log(`  direct   p50 ${fmt(seqDirect.p50)} ms   p99 ${fmt(seqDirect.p99)} ms`);
  log(`  gateway  p50 ${fmt(seqGateway.p50)} ms   p99 ${fmt(seqGateway.p99)} ms`);
  log(
    `  ratio    p50 ${fmt(seqGateway.p50 / seqDirect.p50, 2)}x   p99 ${fmt(seqGateway.p99 / seqDirect.p99, 2)}x   added p50 ${fmt(seqGateway.p50 - seqDirect.p50)} ms (target <= 0.5 ms)`,
  );
  log('');

  const tput: Record<string, unknown> = {};
  log(`tools/call throughput (${THROUGHPUT_MS} ms per level)`);
  for (const concurrency of [1, 8, 32]) {
    const d = await throughput(direct, 'echo', concurrency);
    const g = await throughput(viaGateway, 'toy__echo', concurrency);
    tput[concurrency] = { direct: d, gateway: g, ratio: g / d };
    log(
      `  c=${String(concurrency).padEnd(3)} direct ${fmt(d, 0).padStart(6)}/s   gateway ${fmt(g, 0).padStart(6)}/s   ratio ${fmt(g / d, 2)}${concurrency === 32 ? ' (target >= 0.60)' : ''}`,
    );
  }
  results.throughput = tput;
  const rssSmall = await rssMiB(gateway.pid);
  log('');

  // The SDK's stock clients, in both eras, each against an HTTP backend of its own era directly
  // and through the gateway (the gateway's side of the hop speaks whatever the backend speaks).
  const eras: Record<string, unknown> = {};
  log(`tools/call with the SDK's stock clients, sequential (${SEQUENTIAL_CALLS} calls, alternating)`);
  const modernUrl = await startModernHttp().catch(() => undefined);
  const eraGateway = await startGateway({
    toy: { type: 'http', url: backendUrl },
    ...(modernUrl ? { modern: { type: 'http', url: modernUrl } } : {}),
  });
  const cases = [
    {
      label: '2025-11-25 client, 2025 backend',
      era: 'legacy' as const,
      url: backendUrl,
      tool: 'echo',
      via: 'toy__echo',
    },
    {
      label: '2026-07-28 client, 2025 backend',
      era: 'modern' as const,
      url: backendUrl,
      tool: 'echo',
      via: 'toy__echo',
      directEra: 'legacy' as const,
    },
    ...(modernUrl
      ? [
          {
            label: '2026-07-28 client, 2026 backend',
            era: 'modern' as const,
            url: modernUrl,
            tool: 'echo',
            via: 'modern__echo',
          },
          {
            label: '2025-11-25 client, 2026 backend',
            era: 'legacy' as const,
            url: modernUrl,
            tool: 'echo',
            via: 'modern__echo',
            directEra: 'modern' as const,
          },
        ]
      : []),
  ];
  for (const c of cases) {
    const direct = await stockClient(c.url, c.directEra ?? c.era);
    const via = await stockClient(eraGateway.url, c.era, eraGateway.token);
    await waitUntil(async () => await via.call(c.via, 'ready').then(() => true), 30_000);
    const r = await alternating(direct.call, c.tool, via.call, c.via, eraGateway.pid);
    eras[c.label] = r;
    log(
      `  ${c.label.padEnd(32)} direct p50 ${fmt(r.directP50)} ms   gateway p50 ${fmt(r.gatewayP50)} ms   added ${fmt(r.addedP50)} ms (target <= 0.5)   gateway CPU ${fmt(r.cpuUsPerCall, 0)} us/call at c=32 (target <= 250), ${fmt(r.sequentialCpuUsPerCall, 0)} sequential`,
    );
    await direct.close();
    await via.close();
  }
  if (!modernUrl) log('  (no 2026-07-28 backend fixture: test/fixtures/modern-server.mjs is missing)');
  results.eras = eras;
  results.rssAfterErasMiB = await rssMiB(eraGateway.pid);
  log(`  gateway RSS after these calls: ${results.rssAfterErasMiB as number} MiB (target <= 100)`);
  eraGateway.child.kill('SIGTERM');
  log('');

  // Catalog scale: 50 stdio backends x 100 tools each.
  const many: Record<string, unknown> = {};
  for (let i = 0; i < 50; i++) {
    many[`b${i}`] = { command: process.execPath, args: [TOY], env: { TOY_TOOL_COUNT: '94', TOY_NAME: `b${i}` } };
  }
  const big = await startGateway(many);
  const bigClient = await connect(big.url, big.token);
  await waitUntil(async () => (await bigClient.listTools()).tools.length >= 5000, 120_000);
  const list = await rawToolsList(big.url, big.token, LIST_RUNS);
  results.toolsList = list;
  log(
    `tools/list with 50 backends x 100 tools: ${list.count} tools, ${fmt(list.bytes / 1e6, 1)} MB, p50 ${fmt(list.p50, 2)} ms to the last byte (target < 20 ms); the client's JSON.parse adds ${fmt(list.parseP50, 2)} ms`,
  );
  const rssBig = await rssMiB(big.pid);
  results.rssMiB = { oneBackend: rssSmall, fiftyBackends: rssBig };
  log(`gateway RSS: ${rssSmall} MiB with 1 backend after load, ${rssBig} MiB with 50 backends / 5,000 tools`);
  await bigClient.close();
  big.child.kill('SIGTERM');

  // Start-up: time from spawn until a fresh client's tools/list is answered, with no backends and
  // with 10 backends that take 10 s each to answer. The gateway must be useful long before those.
  const readyWith = async (count: number) => {
    const slow: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      slow[`slow${i}`] = { command: process.execPath, args: [TOY], env: { TOY_START_DELAY_MS: '10000' } };
    }
    const starting = await startGateway(slow);
    const probe = await connect(starting.url, starting.token);
    const { tools } = await probe.listTools();
    const ms = performance.now() - starting.spawnedAt - starting.tokenMs;
    await probe.close();
    const exited = new Promise((r) => starting.child.once('exit', r));
    starting.child.kill('SIGTERM');
    await exited;
    return { ms, builtins: tools.length };
  };
  const ready0 = await readyWith(0);
  const ready10 = await readyWith(10);
  results.readyMs = { noBackends: ready0.ms, tenSlowBackends: ready10.ms };
  log(
    `ready: first tools/list answered ${fmt(ready10.ms, 0)} ms after spawn with 10 slow backends (${ready10.builtins} builtins; target < 500 ms), ${fmt(ready0.ms, 0)} ms with none; both include node start-up, not the minting of the bench's token`,
  );

  await direct.close();
  await viaGateway.close();
  const outDir = join(ROOT, 'bench/results');
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  await writeFile(join(outDir, 'latest.txt'), lines.join('\n') + '\n');
  log('');
  log(`results written to bench/results/latest.{json,txt}`);
}

async function cleanup() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
}

// Bound the whole run so it always stops by itself.
const guard = setTimeout(
  () => {
    process.stderr.write('benchmark exceeded its time bound\n');
    void cleanup().then(() => process.exit(2));
  },
  QUICK ? 180_000 : 600_000,
);
guard.unref();

main()
  .then(cleanup, async (error: unknown) => {
    process.stderr.write(`benchmark failed: ${String(error)}\n`);
    await cleanup();
    process.exitCode = 1;
  })
  .finally(() => clearTimeout(guard));
