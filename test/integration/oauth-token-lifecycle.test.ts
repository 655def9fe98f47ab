import { basename, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAUTH_DIR } from '../../src/index.js';
import { OAUTH_MANIFEST } from '../../src/oauth/store.js';
import { createConsoleLogger } from '../../src/shared/logger.js';
import { writeFileAtomic, type WriteFileAtomic } from '../../src/store/atomic.js';
import { startGateway, tempDir, waitFor, type RunningGateway, type TempDir } from '../helpers/gateway.js';
import { approve, authorizationRequest, mcpStatus, ownerSession } from '../helpers/oauth.js';

/**
 * The token lifecycle against a real gateway: a code is exchanged once, a refresh token rotates
 * once and a retry gets the same answer, a replay revokes, a dropped key takes its tokens with it.
 * Races are made certain, not left to luck: the OAuth store's commits can be held, so one request is
 * still issuing when the next arrives, and the gateway's log says when that next one got there.
 */

const REDIRECT = 'http://127.0.0.1:5555/cb';

/** A controllable clock shared with the gateway, to step past the refresh grace window. */
const clock = { offset: 0, now: () => Date.now() + clock.offset };

/**
 * writeFileAtomic, with the OAuth store's commits held while `hold()` is in force: every change is
 * committed by writing the store's manifest (`oauth/state.json`) last, so holding it holds the change.
 */
function gatedWrites() {
  let held: Array<() => void> | undefined;
  const writeFile: WriteFileAtomic = async (path, data, mode, options) => {
    if (held && basename(path) === OAUTH_MANIFEST && basename(dirname(path)) === OAUTH_DIR)
      await new Promise<void>((resolve) => held!.push(resolve));
    await writeFileAtomic(path, data, mode, options);
  };
  return {
    writeFile,
    hold: () => void (held = []),
    /** Writes waiting to be let through. */
    waiting: () => held?.length ?? 0,
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const resolve of waiting) resolve();
    },
  };
}

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
}

describe('token lifecycle', () => {
  let gw: RunningGateway;
  let dataDir: TempDir;
  const gate = gatedWrites();
  const logs: string[] = [];
  const logged = (text: string) => logs.filter((line) => line.includes(text)).length;

  beforeAll(async () => {
    dataDir = await tempDir('cortex-lifecycle-');
    gw = await startGateway(
      { toy: { command: 'node', args: ['-e', ''] } },
      { maxRestarts: 1 },
      {
        clock,
        dataDir: dataDir.path,
        writeFile: gate.writeFile,
        logger: createConsoleLogger({ level: 'debug', write: (line) => logs.push(line) }),
      },
    );
  });
  afterAll(async () => {
    gate.release();
    await gw[Symbol.asyncDispose]();
    await dataDir[Symbol.asyncDispose]();
  });

  async function register(): Promise<string> {
    const res = await fetch(new URL('/register', gw.mcpUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'Lifecycle Tester' }),
    });
    return ((await res.json()) as { client_id: string }).client_id;
  }

  /** A new client and a code for it, with its PKCE verifier. */
  async function newCode(): Promise<{ clientId: string; code: string; verifier: string }> {
    const clientId = await register();
    const { url, verifier } = authorizationRequest(gw.mcpUrl, { clientId, redirectUri: REDIRECT, state: 'st' });
    const code = (await approve(url, await ownerSession(gw.gateway))).searchParams.get('code')!;
    return { clientId, code, verifier };
  }

  async function token(form: Record<string, string>, headers: Record<string, string> = {}) {
    const res = await fetch(new URL('/token', gw.mcpUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  }

  const exchange = (c: { clientId: string; code: string; verifier: string }) =>
    token({
      grant_type: 'authorization_code',
      code: c.code,
      code_verifier: c.verifier,
      client_id: c.clientId,
      redirect_uri: REDIRECT,
    });
  const refresh = (clientId: string, refreshToken: string) =>
    token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });

  /** The grants (refresh families) of a client still alive. */
  const activeGrants = (clientId: string) =>
    gw.gateway.authorizationServer!.clients().find((c) => c.clientId === clientId)?.activeGrants;

  /** Every token in `issued` is refused: access tokens at /mcp, refresh tokens at /token. */
  async function expectAllRefused(clientId: string, issued: Tokens[]) {
    for (const tokens of issued) {
      expect(await mcpStatus(gw.mcpUrl, tokens.access_token)).toBe(401);
      expect((await refresh(clientId, tokens.refresh_token)).body.error).toBe('invalid_grant');
    }
    expect(activeGrants(clientId)).toBe(0);
  }

  describe('authorization code exchange (RFC 6749 §4.1.2)', () => {
    it('gives tokens to at most one of two exchanges of one code sent at the same moment, and revokes them', async () => {
      const c = await newCode();
      const answers = await Promise.all([exchange(c), exchange(c)]);
      const winners = answers.filter((a) => a.status === 200);
      expect(winners.length).toBeLessThanOrEqual(1);
      expect(answers.filter((a) => a.status !== 200).every((a) => a.body.error === 'invalid_grant')).toBe(true);
      await expectAllRefused(
        c.clientId,
        winners.map((w) => w.body as unknown as Tokens),
      );
    });

    it('gives tokens to neither when the second exchange arrives while the first is still issuing', async () => {
      const c = await newCode();
      const before = logged('authorization code presented again');
      gate.hold();
      try {
        const first = exchange(c);
        await waitFor(() => gate.waiting() === 1, 'the first exchange to be saving its grant');
        const second = exchange(c);
        await waitFor(
          () => logged('authorization code presented again') > before,
          'the second exchange to be seen as a replay',
        );
        gate.release();
        const answers = await Promise.all([first, second]);
        expect(answers.map((a) => [a.status, a.body.error])).toEqual([
          [400, 'invalid_grant'],
          [400, 'invalid_grant'],
        ]);
      } finally {
        gate.release();
      }
      expect(activeGrants(c.clientId)).toBe(0);
    });

    it('revokes every token the code led to, refreshed ones included, when the code comes back', async () => {
      const c = await newCode();
      const first = (await exchange(c)).body as unknown as Tokens;
      const refreshed = (await refresh(c.clientId, first.refresh_token)).body as unknown as Tokens;
      expect(await mcpStatus(gw.mcpUrl, first.access_token)).toBe(200);
      expect(await mcpStatus(gw.mcpUrl, refreshed.access_token)).toBe(200);
      const replay = await exchange(c);
      expect(replay.body.error).toBe('invalid_grant');
      await expectAllRefused(c.clientId, [first, refreshed]);
    });
  });

  describe('refresh token rotation (RFC 9700 §4.14.2)', () => {
    async function grant() {
      const c = await newCode();
      return { clientId: c.clientId, tokens: (await exchange(c)).body as unknown as Tokens };
    }

    it('answers a retry within the grace window with the very same tokens', async () => {
      const { clientId, tokens } = await grant();
      const first = await refresh(clientId, tokens.refresh_token);
      const retry = await refresh(clientId, tokens.refresh_token);
      expect(first.status).toBe(200);
      expect(retry.status).toBe(200);
      expect(retry.body.access_token).toBe(first.body.access_token);
      expect(retry.body.refresh_token).toBe(first.body.refresh_token);
      expect(retry.body.refresh_token).not.toBe(tokens.refresh_token);
      // One chain: the rotated token carries on, and the grant is one grant.
      expect((await refresh(clientId, first.body.refresh_token as string)).status).toBe(200);
      expect(activeGrants(clientId)).toBe(1);
    });

    it('revokes the family, access tokens included, when a rotated token comes back after the window', async () => {
      const { clientId, tokens } = await grant();
      const rotated = (await refresh(clientId, tokens.refresh_token)).body as unknown as Tokens;
      clock.offset += 31_000;
      try {
        const replay = await refresh(clientId, tokens.refresh_token);
        expect(replay.body.error).toBe('invalid_grant');
        await expectAllRefused(clientId, [rotated, tokens]);
      } finally {
        clock.offset -= 31_000;
      }
    });

    it('treats a token superseded by a later rotation as reuse, even within the window', async () => {
      const { clientId, tokens } = await grant();
      const second = (await refresh(clientId, tokens.refresh_token)).body as unknown as Tokens;
      const third = (await refresh(clientId, second.refresh_token)).body as unknown as Tokens;
      expect((await refresh(clientId, tokens.refresh_token)).body.error).toBe('invalid_grant');
      await expectAllRefused(clientId, [second, third]);
    });

    it('rotates once for concurrent refreshes with one token, and all get the same tokens', async () => {
      const { clientId, tokens } = await grant();
      const before = logged('refresh token presented again during its rotation');
      gate.hold();
      let answers;
      try {
        const first = refresh(clientId, tokens.refresh_token);
        await waitFor(() => gate.waiting() === 1, 'the first refresh to be saving its rotation');
        const others = [1, 2, 3].map(() => refresh(clientId, tokens.refresh_token));
        await waitFor(
          () => logged('refresh token presented again during its rotation') - before === 3,
          'the other refreshes to join the rotation under way',
        );
        expect(gate.waiting()).toBe(1);
        gate.release();
        answers = await Promise.all([first, ...others]);
      } finally {
        gate.release();
      }
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
      expect(new Set(answers.map((a) => a.body.access_token)).size).toBe(1);
      expect(new Set(answers.map((a) => a.body.refresh_token)).size).toBe(1);
      expect((await refresh(clientId, answers[0]!.body.refresh_token as string)).status).toBe(200);
    });

    it('rotates once for refreshes sent at the same moment', async () => {
      const { clientId, tokens } = await grant();
      const answers = await Promise.all([1, 2, 3, 4].map(() => refresh(clientId, tokens.refresh_token)));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
      expect(new Set(answers.map((a) => a.body.refresh_token)).size).toBe(1);
      expect(new Set(answers.map((a) => a.body.access_token)).size).toBe(1);
    });
  });

  describe('signing key rotation', () => {
    it('refuses a token verified before, once its key is dropped by rotation', async () => {
      const c = await newCode();
      const tokens = (await exchange(c)).body as unknown as Tokens;
      expect(await mcpStatus(gw.mcpUrl, tokens.access_token)).toBe(200);
      const server = gw.gateway.authorizationServer!;
      // Two rotations keep the key published (the ring holds the newest three): still accepted.
      await server.rotateKeys();
      await server.rotateKeys();
      expect(await mcpStatus(gw.mcpUrl, tokens.access_token)).toBe(200);
      await server.rotateKeys();
      const res = await fetch(gw.mcpUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error_description="Unknown signing key"');
    });
  });

  describe('client authentication at /token', () => {
    const basic = (raw: string) => ({ authorization: `Basic ${raw}` });
    const cases: Record<string, Record<string, string>> = {
      'not base64': basic('%%%not-base64%%%'),
      'no colon': basic(Buffer.from('just-a-client-id').toString('base64')),
      'a broken percent escape': basic(Buffer.from('client%zz:secret').toString('base64')),
      'a broken escape in the secret': basic(Buffer.from('client:%E0%A4%A').toString('base64')),
      'a lower-case scheme': { authorization: `basic ${Buffer.from('a%:b').toString('base64')}` },
    };
    for (const [kind, headers] of Object.entries(cases)) {
      it(`answers malformed Basic credentials (${kind}) with 401 invalid_client`, async () => {
        const res = await token(
          { grant_type: 'authorization_code', code: 'x', code_verifier: 'x'.repeat(43) },
          headers,
        );
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('invalid_client');
      });
    }

    it('still accepts well-formed Basic credentials of a confidential client', async () => {
      const res = await fetch(new URL('/register', gw.mcpUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' }),
      });
      const { client_id: id, client_secret: secret } = (await res.json()) as Record<string, string>;
      const credentials = Buffer.from(`${encodeURIComponent(id!)}:${encodeURIComponent(secret!)}`).toString('base64');
      // Authenticated: the grant itself is what fails.
      const answer = await token(
        { grant_type: 'authorization_code', code: 'nope', code_verifier: 'x'.repeat(43) },
        basic(credentials),
      );
      expect(answer.body.error).toBe('invalid_grant');
    });
  });
});
