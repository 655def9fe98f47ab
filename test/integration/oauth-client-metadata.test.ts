import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientMetadataFetcher, type MetadataFetcherOptions } from '../../src/oauth/client-metadata.js';
import { createConsoleLogger } from '../../src/shared/logger.js';
import { startGateway } from '../helpers/gateway.js';
import { approve, authorizationRequest, openConsent, ownerSession } from '../helpers/oauth.js';

describe('Client ID Metadata Documents', () => {
  it('authorizes a client known only by its metadata document URL', async () => {
    const CLIENT_ID = 'https://app.test/oauth/client.json';
    const REDIRECT = 'http://127.0.0.1:7788/callback';
    const docServer = createServer((req, res) => {
      if (req.url !== '/oauth/client.json') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ client_id: CLIENT_ID, client_name: 'Metadata Client', redirect_uris: [REDIRECT] }));
    });
    await new Promise<void>((resolve) => docServer.listen(0, '127.0.0.1', resolve));
    const port = (docServer.address() as { port: number }).port;
    try {
      // app.test resolves to the local document server; only that address is let through the fence.
      const clientMetadata = new ClientMetadataFetcher({
        lookup: async () => ['127.0.0.1'],
        allowAddress: (address) => address === '127.0.0.1',
        request: (options, onResponse) => request({ ...options, port }, onResponse),
      });
      await using gw = await startGateway(
        { toy: { command: 'node', args: ['-e', ''] } },
        { maxRestarts: 1 },
        { clientMetadata },
      );
      const asMeta = (await (
        await fetch(new URL('/.well-known/oauth-authorization-server', gw.mcpUrl))
      ).json()) as Record<string, unknown>;
      expect(asMeta.client_id_metadata_document_supported).toBe(true);

      const { url, verifier } = authorizationRequest(gw.mcpUrl, { clientId: CLIENT_ID, redirectUri: REDIRECT });
      expect((await openConsent(url)).html).toContain('Metadata Client');
      // The approval list says how the client is known: by its metadata document, on that domain.
      const listed = await fetch(new URL('/api/consents', gw.mcpUrl), {
        headers: { authorization: `Bearer ${gw.gateway.ownerToken}` },
      });
      expect(((await listed.json()) as { value: unknown[] }).value).toEqual([
        expect.objectContaining({
          clientId: CLIENT_ID,
          clientName: 'Metadata Client',
          clientSource: 'cimd',
          clientDomain: 'app.test',
          clientRegisteredAt: expect.any(Number),
        }),
      ]);
      const callback = await approve(url, await ownerSession(gw.gateway));
      const tokenRes = await fetch(new URL('/token', gw.mcpUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: callback.searchParams.get('code')!,
          code_verifier: verifier,
          client_id: CLIENT_ID,
          redirect_uri: REDIRECT,
        }),
      });
      const tokens = (await tokenRes.json()) as Record<string, string>;
      expect(tokenRes.status).toBe(200);
      expect(tokens.scope).toBe('mcp:toy:read');
      expect(gw.gateway.authorizationServer!.clients()).toEqual([
        expect.objectContaining({ clientId: CLIENT_ID, clientName: 'Metadata Client', source: 'cimd' }),
      ]);

      // A redirect URI the document does not list is refused without redirecting.
      url.searchParams.set('redirect_uri', 'http://127.0.0.1:7788/elsewhere');
      const refused = await fetch(url, { redirect: 'manual' });
      expect(refused.status).toBe(400);
    } finally {
      docServer.close();
    }
  });

  /** An authorization request naming `clientId`, as a browser would send it. */
  const authorizeUrl = (mcpUrl: URL, clientId: string) =>
    authorizationRequest(mcpUrl, { clientId, redirectUri: 'http://127.0.0.1:1/cb', scope: null }).url;
  const GENERIC = 'Client metadata document refused: the document could not be fetched';

  for (const [form, host] of Object.entries({
    loopback: '127.0.0.1',
    'NAT64 (64:ff9b::/96) to loopback': '[64:ff9b::7f00:1]',
    'IPv4-mapped loopback': '[::ffff:127.0.0.1]',
    '6to4 (2002::/16) to a private address': '[2002:a00:1::1]',
    'Teredo to loopback': '[2001:0:7f00:1::]',
  })) {
    it(`shows a generic error page, not a redirect, for a ${form} host; the log has the detail`, async () => {
      const lines: string[] = [];
      // The default fence: a metadata URL on a non-public address is never fetched.
      await using gw = await startGateway(
        {},
        {},
        { logger: createConsoleLogger({ level: 'debug', write: (line) => lines.push(line) }) },
      );
      const res = await fetch(authorizeUrl(gw.mcpUrl, `https://${host}/client.json`), { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      const page = await res.text();
      expect(page).toContain(GENERIC);
      expect(page).not.toMatch(/non-public|resolves/);
      expect(lines.join('\n')).toMatch(/client metadata document could not be fetched.*non-public address/);
    });
  }

  describe('with documents served locally', () => {
    const CLIENT = 'https://app.test';
    let docServer: Server;
    let port = 0;
    let hits = 0;
    const lines: string[] = [];
    const logger = createConsoleLogger({ level: 'debug', write: (line) => lines.push(line) });

    beforeAll(async () => {
      docServer = createServer((req, res) => {
        hits++;
        if (req.url === '/drip.json') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{');
          const drip = setInterval(() => res.write(' '), 20);
          res.once('close', () => clearInterval(drip));
          return;
        }
        if (req.url === '/big.json') return void res.writeHead(200).end('x'.repeat(70 * 1024));
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => docServer.listen(0, '127.0.0.1', resolve));
      port = (docServer.address() as { port: number }).port;
    });
    afterAll(() => docServer.close());

    /** app.test resolves to the local document server, the only address let through the fence. */
    const fetcher = (options: Partial<MetadataFetcherOptions> = {}) =>
      new ClientMetadataFetcher({
        lookup: async () => ['127.0.0.1'],
        allowAddress: (address) => address === '127.0.0.1',
        request: (opts, onResponse) => request({ ...opts, port }, onResponse),
        logger,
        ...options,
      });

    it('cuts a document dripping a byte at a time at the total deadline, and tells the requester nothing more', async () => {
      await using gw = await startGateway({}, {}, { clientMetadata: fetcher({ timeoutMs: 500 }) });
      const started = Date.now();
      const res = await fetch(authorizeUrl(gw.mcpUrl, `${CLIENT}/drip.json`), { redirect: 'manual' });
      const elapsed = Date.now() - started;
      const page = await res.text();
      expect(res.status).toBe(400);
      expect(page).toContain(GENERIC);
      expect(page).not.toContain(String(port));
      expect(elapsed).toBeGreaterThanOrEqual(490);
      expect(elapsed).toBeLessThan(10_000);
      expect(lines.join('\n')).toContain('no complete answer within 500 ms');
    });

    it('refuses a document over the size cap', async () => {
      await using gw = await startGateway({}, {}, { clientMetadata: fetcher() });
      const res = await fetch(authorizeUrl(gw.mcpUrl, `${CLIENT}/big.json`), { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(`larger than ${64 * 1024} bytes`);
    });

    it('stops fetching when a flood of distinct client ids arrives', async () => {
      await using gw = await startGateway({}, {}, { clientMetadata: fetcher({ totalLimit: 5 }) });
      const before = hits;
      const pages: string[] = [];
      for (let i = 0; i < 8; i++) {
        const res = await fetch(authorizeUrl(gw.mcpUrl, `${CLIENT}/flood-${i}.json`), { redirect: 'manual' });
        pages.push(await res.text());
      }
      expect(hits - before).toBe(5);
      expect(pages.slice(5).every((page) => page.includes('Too many client metadata documents'))).toBe(true);
    });
  });
});
