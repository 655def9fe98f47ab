import { SdkError, SdkErrorCode, type JSONRPCMessage } from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogFields, Logger } from '../shared/logger.js';
import type { ChildRegistry } from './child-registry.js';
import { processRunning } from '../shared/processes.js';
import { StdioTransport, type StdioTransportOptions } from './stdio-transport.js';

const open: StdioTransport[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

interface Captured {
  transport: StdioTransport;
  messages: JSONRPCMessage[];
  errors: Error[];
  warnings: Array<[string, LogFields | undefined]>;
  closes: number;
  stderr: () => string;
}

/** A transport running `node -e script`, with everything it reports captured. */
function run(script: string, options: Partial<StdioTransportOptions> = {}): Captured {
  const warnings: Captured['warnings'] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (message, fields) => warnings.push([message, fields]),
    error() {},
    child: () => logger,
  };
  const transport = new StdioTransport({
    command: process.execPath,
    args: ['-e', script],
    env: { PATH: process.env.PATH ?? '' },
    backend: 't',
    maxMessageBytes: 4096,
    logger,
    graceMs: 300,
    ...options,
  });
  open.push(transport);
  let stderr = '';
  transport.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const captured: Captured = { transport, messages: [], errors: [], warnings, closes: 0, stderr: () => stderr };
  transport.onmessage = (message) => captured.messages.push(message);
  transport.onerror = (error) => captured.errors.push(error);
  transport.onclose = () => captured.closes++;
  return captured;
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Exits on stdin EOF, as a well-behaved server does.
const EXIT_ON_EOF = `process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;

describe.skipIf(process.platform === 'win32')('StdioTransport', () => {
  it('reads messages across partial chunks and CRLF, reports invalid lines and reads on', async () => {
    const t = run(`
      const w = (s) => process.stdout.write(s);
      w('server starting...\\n{"jsonrpc":"2.0","id":1,"res');
      setTimeout(() => w('ult":{}}\\r\\n{"jsonrpc":"2.0","id":2,"result":{"ok":true}}\\n'), 50);
      ${EXIT_ON_EOF}`);
    await t.transport.start();
    await until(() => t.messages.length === 2, 'two messages');
    expect(t.messages).toEqual([
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', id: 2, result: { ok: true } },
    ]);
    expect(t.errors.map((e) => e.message)).toEqual([expect.stringContaining('not a JSON-RPC message')]);
  });

  it('fails only the call whose response is over the limit, whether its id comes first or last', async () => {
    const t = run(`
      const w = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
      const big = 'x'.repeat(10_000);
      w({ jsonrpc: '2.0', id: 1, result: { text: big } });
      w({ result: { text: big, items: [{ id: 99 }] }, jsonrpc: '2.0', id: 'two' });
      w({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: big } });
      w({ jsonrpc: '2.0', id: 3, result: { small: true } });
      ${EXIT_ON_EOF}`);
    await t.transport.start();
    await until(() => t.messages.length === 3, 'three messages');
    const [first, second, third] = t.messages as Array<{ id: unknown; error?: { code: number; message: string } }>;
    expect(first!.id).toBe(1);
    expect(first!.error!.code).toBe(-32603);
    const bytes = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { text: 'x'.repeat(10_000) } }).length;
    expect(first!.error!.message).toBe(
      `Backend "t" sent a 9.8 KiB (${bytes} bytes) response, more than its limit of 4 KiB (maxMessageBytes); ` +
        `it was dropped. Raise "maxMessageBytes" in this backend's configuration to accept it.`,
    );
    expect(second!.id).toBe('two');
    expect(second!.error!.message).toMatch(/^Backend "t" sent a 9\.8 KiB \(\d+ bytes\) response/);
    expect(third).toEqual({ jsonrpc: '2.0', id: 3, result: { small: true } });
    // The oversized notification has no id to answer: logged and dropped.
    expect(t.warnings.map(([message]) => message)).toContain('dropped a message over the size limit');
    expect(t.transport.pid).toBeGreaterThan(0);
  });

  it('answers an oversized request from the server with an error, so the server is not left waiting', async () => {
    const t = run(`
      const w = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
      w({ jsonrpc: '2.0', id: 's1', method: 'sampling/createMessage', params: { text: 'x'.repeat(10_000) } });
      let buffer = '';
      process.stdin.on('data', (chunk) => {
        buffer += chunk;
        for (let i; (i = buffer.indexOf('\\n')) >= 0; buffer = buffer.slice(i + 1)) {
          w({ jsonrpc: '2.0', method: 'got', params: JSON.parse(buffer.slice(0, i)) });
        }
      });
      process.stdin.on('end', () => process.exit(0));`);
    await t.transport.start();
    await until(() => t.messages.length === 1, 'the echoed answer');
    const got = t.messages[0] as unknown as {
      method: string;
      params: { id: string; error: { code: number; message: string } };
    };
    expect(got.method).toBe('got');
    expect(got.params.id).toBe('s1');
    expect(got.params.error.code).toBe(-32600);
    expect(got.params.error.message).toMatch(/exceeds the client's limit of 4 KiB/);
  });

  it('on close sends EOF, then SIGTERM, then SIGKILL to the whole process group', async () => {
    const t = run(`
      const { spawn } = require('node:child_process');
      const helper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      process.stderr.write('helper ' + helper.pid + '\\n');
      process.on('SIGTERM', () => {});
      process.stdin.resume();
      setInterval(() => {}, 1000);`);
    await t.transport.start();
    await until(() => /helper \d+/.test(t.stderr()), 'helper pid');
    const pid = t.transport.pid!;
    const helper = Number(/helper (\d+)/.exec(t.stderr())![1]);
    expect(await processRunning(helper)).toBe(true);
    const started = Date.now();
    await t.transport.close();
    // EOF and SIGTERM were ignored: it took both grace periods and a SIGKILL.
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(await processRunning(pid)).toBe(false);
    expect(await processRunning(helper)).toBe(false);
    expect(t.closes).toBe(1);
    expect(t.transport.pid).toBeUndefined();
    await expect(t.transport.send({ jsonrpc: '2.0', method: 'x' })).rejects.toMatchObject({
      code: SdkErrorCode.ConnectionClosed,
    });
  });

  it("refuses a message written after the child ended as the SDK's ConnectionClosed", async () => {
    // start-failure.ts reads "the server exited" from this code: a write that lost the race with
    // the child's exit must say the same as a request the exit cut short.
    const t = run(`process.exit(3)`);
    await t.transport.start();
    await until(() => t.closes === 1, 'the child ended');
    const sent = t.transport.send({ jsonrpc: '2.0', id: 1, method: 'initialize' });
    await expect(sent).rejects.toBeInstanceOf(SdkError);
    await expect(sent).rejects.toMatchObject({ code: SdkErrorCode.ConnectionClosed });
  });

  it('stops what the child left in its group after it exited on EOF', async () => {
    const t = run(`
      const { spawn } = require('node:child_process');
      const helper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      helper.unref();
      process.stderr.write('helper ' + helper.pid + '\\n');
      ${EXIT_ON_EOF}`);
    await t.transport.start();
    await until(() => /helper \d+/.test(t.stderr()), 'helper pid');
    const helper = Number(/helper (\d+)/.exec(t.stderr())![1]);
    await t.transport.close();
    expect(await processRunning(helper)).toBe(false);
  });

  it('reports a missing command as ENOENT', async () => {
    const transport = new StdioTransport({
      command: 'cortex-no-such-command-xyz',
      args: [],
      env: { PATH: process.env.PATH ?? '' },
      backend: 't',
      maxMessageBytes: 4096,
    });
    await expect(transport.start()).rejects.toMatchObject({ code: 'ENOENT' });
    // Nothing to wait for: no grace periods pass.
    const started = Date.now();
    await transport.close();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('records the child while it runs and forgets it once it exited', async () => {
    const calls: string[] = [];
    const children: ChildRegistry = {
      add: async (child) => {
        calls.push(`add ${child.pid} pgid=${child.pgid} ${child.backend}`);
      },
      remove: async (pid) => {
        calls.push(`remove ${pid}`);
      },
    };
    const t = run(EXIT_ON_EOF, { children });
    await t.transport.start();
    const pid = t.transport.pid!;
    await until(() => calls.length === 1, 'the record');
    expect(calls).toEqual([`add ${pid} pgid=${pid} t`]);
    await t.transport.close();
    expect(calls).toEqual([`add ${pid} pgid=${pid} t`, `remove ${pid}`]);
  });
});
