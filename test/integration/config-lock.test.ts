import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeyFileSecretStore } from '../../src/store/secrets.js';
import { CLI, nodeBackend, ROOT, TOY } from '../helpers/gateway.js';
import { raceForLock } from '../helpers/lock-race.js';
import { exitedPid } from '../helpers/processes.js';

const WORKER = join(ROOT, 'test/fixtures/config-edit-worker.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A process run to its end; `ready` resolves once it prints READY (its editor is set up). */
function run(args: string[], env: NodeJS.ProcessEnv = process.env, input = '') {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('READY')) onReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { ready, done };
}

// Config edits from separate processes (CLI commands with no gateway running) take turns through
// a lock file beside the config: none overwrites another's change.
describe('config edits across processes', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cortex-config-lock-'));
    path = join(dir, 'cortex.config.json');
    await writeFile(path, JSON.stringify({ mcpServers: {} }, null, 2));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serializes two processes editing one config at the same moment: every edit of both lands', async () => {
    const go = join(dir, 'go');
    const a = run([WORKER, path, 'a', '25', go]);
    const b = run([WORKER, path, 'b', '25', go]);
    await Promise.all([a.ready, b.ready]);
    await writeFile(go, '');
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra).toMatchObject({ code: 0, stderr: '' });
    expect(rb).toMatchObject({ code: 0, stderr: '' });
    const servers = Object.keys((JSON.parse(await readFile(path, 'utf8')) as { mcpServers: object }).mcpServers);
    expect(servers).toHaveLength(50);
    for (const prefix of ['a', 'b']) {
      for (let n = 0; n < 25; n++) expect(servers).toContain(`${prefix}-${n}`);
    }
    expect(await readdir(dir)).not.toContain('cortex.config.json.lock');
  });

  it('a CLI command takes over the lock left by a process that died, and removes it', async () => {
    await writeFile(path, JSON.stringify({ mcpServers: { toy: nodeBackend(TOY) } }, null, 2));
    await writeFile(`${path}.lock`, JSON.stringify({ pid: await exitedPid(), time: Date.now(), nonce: 'dead' }));

    const env = { ...process.env, CORTEX_DATA_DIR: dir, CORTEX_CONFIG: path };
    const result = await run([CLI, 'secret', 'set', 'toy', 'TOY_NAME', '--data-dir', dir], env, 'from-stdin\n').done;
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const saved = JSON.parse(await readFile(path, 'utf8')) as { mcpServers: { toy: { env: object } } };
    expect(saved.mcpServers.toy.env).toEqual({ TOY_NAME: '${secret:toy.env.TOY_NAME}' });
    expect(await createKeyFileSecretStore(dir).get('toy.env.TOY_NAME')).toBe('from-stdin');
    expect((await readdir(dir)).filter((name) => name.includes('.lock'))).toEqual([]);
  });

  it('lets exactly one of several processes racing for a stale lock take it; the others wait, then give up', async () => {
    await writeFile(`${path}.lock`, JSON.stringify({ pid: await exitedPid(), time: Date.now(), nonce: 'dead' }));
    await using race = await raceForLock('config', path, join(dir, 'go'));
    expect(race.results.filter((r) => r === 'won')).toHaveLength(1);
    expect(race.results.filter((r) => r === 'conflict')).toHaveLength(3);
    expect(JSON.parse(await readFile(`${path}.lock`, 'utf8'))).toMatchObject({ pid: race.winner });
    // No takeover claim is left beside the lock.
    expect((await readdir(dir)).filter((name) => name.includes('.lock'))).toEqual(['cortex.config.json.lock']);
  });
});
