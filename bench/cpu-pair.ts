/**
 * Gateway CPU per relayed tools/call, two builds side by side (a paired measurement, alternating
 * rounds so machine drift hits both): `tsx bench/cpu-pair.ts <cliA> <cliB> [rounds]`.
 * Each round: a fresh `serve` in front of the toy HTTP backend, 500 warm-up calls, then 5,000 calls
 * at concurrency 32; CPU from /proc/<pid>/stat (utime + stime) around the measured calls.
 * CPU_PROF_DIR=d writes a V8 CPU profile of each gateway into d/A and d/B.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { NodeStreamableHttpClientTransport } from '../src/backends/http-client-transport.js';

const TOY = join(import.meta.dirname, '../test/fixtures/toy-server.mjs');
const [cliA, cliB, roundsArg = '3'] = process.argv.slice(2);
if (!cliA || !cliB) throw new Error('usage: tsx bench/cpu-pair.ts <cliA> <cliB> [rounds]');

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match) resolve(match);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
}

async function measure(cli: string, backendUrl: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'cpu-pair-'));
  await writeFile(
    join(dir, 'c.json'),
    JSON.stringify({ mcpServers: { toy: { type: 'http', url: backendUrl } }, gateway: { port: 0 } }),
  );
  const prof = process.env.CPU_PROF_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPU_PROF_DIR}/${cli === cliA ? 'A' : 'B'}`]
    : [];
  const child = spawn(
    process.execPath,
    [...prof, cli, 'serve', '--config', join(dir, 'c.json'), '--data-dir', dir, '--log-level', 'error'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const url = (await waitForLine(child, /MCP endpoint: (\S+)/))[1]!;
    const { ownerToken } = JSON.parse(await readFile(join(dir, 'runtime.json'), 'utf8')) as { ownerToken: string };
    const res = await fetch(new URL('/api/tokens', url), {
      method: 'POST',
      headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cpu', scopes: ['*'], ttlSeconds: 3600 }),
    });
    const token = ((await res.json()) as { value: { token: string } }).value.token;
    const client = new Client({ name: 'cpu-pair', version: '1' });
    await client.connect(
      new NodeStreamableHttpClientTransport(new URL(url), { headers: { authorization: `Bearer ${token}` } }),
    );
    for (let deadline = Date.now() + 20_000; ;) {
      if ((await client.listTools()).tools.some((t) => t.name === 'toy__echo')) break;
      if (Date.now() > deadline) throw new Error('backend not ready');
      await new Promise((r) => setTimeout(r, 50));
    }
    const call = () => client.callTool({ name: 'toy__echo', arguments: { text: 'x' } });
    const run = async (count: number, concurrency: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next++ < count) await call();
        }),
      );
    };
    await run(500, 32);
    const before = await cpuTicks(child.pid!);
    await run(5000, 32);
    const after = await cpuTicks(child.pid!);
    await client.close();
    return ((after - before) * 10_000) / 5000; // µs per call at 100 ticks/s
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}

const toy = spawn(process.execPath, [TOY], {
  env: { ...process.env, TOY_HTTP: '1', TOY_JSON: '1' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const backendUrl = `http://127.0.0.1:${(await waitForLine(toy, /LISTENING (\d+)/))[1]}/mcp`;
const results: Record<string, number[]> = { A: [], B: [] };
for (let i = 0; i < Number(roundsArg); i++) {
  results.A!.push(await measure(cliA, backendUrl));
  results.B!.push(await measure(cliB, backendUrl));
  console.log(`round ${i + 1}: A ${results.A!.at(-1)!.toFixed(0)} µs/call, B ${results.B!.at(-1)!.toFixed(0)} µs/call`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `median: A ${median(results.A!).toFixed(0)} µs/call, B ${median(results.B!).toFixed(0)} µs/call (B/A ${(median(results.B!) / median(results.A!)).toFixed(2)})`,
);
toy.kill('SIGTERM');
