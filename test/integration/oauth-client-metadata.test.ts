import { createHash, randomBytes } from 'node:crypto';
import { createServer, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ClientMetadataFetcher } from '../../src/oauth/client-metadata.js';
import { startGateway } from '../helpers/gateway.js';
import { approve, openConsent } from '../helpers/oauth.js';

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

      const verifier = randomBytes(32).toString('base64url');
      const url = new URL('/authorize', gw.mcpUrl);
      url.search = new URLSearchParams({
        client_id: CLIENT_ID,
        redirect_uri: REDIRECT,
        response_type: 'code',
        scope: 'mcp:toy:read',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString();
      expect((await openConsent(url)).html).toContain('Metadata Client');
      const callback = await approve(url);
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

  it('shows an error page, not a redirect, when the document cannot be had', async () => {
    await using gw = await startGateway({});
    const url = new URL('/authorize', gw.mcpUrl);
    // The default fence: a metadata URL on a loopback address is never fetched.
    url.search = new URLSearchParams({
      client_id: 'https://127.0.0.1/client.json',
      redirect_uri: 'http://127.0.0.1:1/cb',
      response_type: 'code',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('non-public address');
  });
});
