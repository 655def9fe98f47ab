import { createServer, request, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientMetadataFetcher, isMetadataClientId, isPublicAddress } from './client-metadata.js';

describe('isPublicAddress', () => {
  for (const address of [
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fd00::1',
    'fe80::1',
    '::ffff:10.0.0.1',
    'not-an-ip',
  ]) {
    it(`refuses ${address}`, () => expect(isPublicAddress(address)).toBe(false));
  }
  for (const address of ['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111']) {
    it(`accepts ${address}`, () => expect(isPublicAddress(address)).toBe(true));
  }
});

describe('isMetadataClientId', () => {
  it('accepts an https URL with a path', () =>
    expect(isMetadataClientId('https://app.example.com/oauth/client.json')).toBe(true));
  for (const id of [
    'http://app.example.com/client.json',
    'https://app.example.com/',
    'https://u:p@app.example.com/c',
    'https://app.example.com/c#x',
    'some-uuid',
  ]) {
    it(`refuses ${id}`, () => expect(isMetadataClientId(id)).toBe(false));
  }
});

describe('ClientMetadataFetcher', () => {
  let server: Server;
  let port = 0;
  const ID = 'https://client.test/meta.json';
  const routes: Record<string, (res: ServerResponse) => void> = {};

  beforeAll(async () => {
    server = createServer((req, res) => (routes[req.url ?? ''] ?? ((r) => r.writeHead(404).end()))(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => server.close());

  /** Resolves client.test to the local test server over plain http; the address fence is the real one unless overridden. */
  const fetcher = (allowAddress?: (a: string) => boolean, extra: object = {}) =>
    new ClientMetadataFetcher({
      lookup: async () => ['127.0.0.1'],
      request: (options, onResponse) => request({ ...options, port }, onResponse),
      ...(allowAddress ? { allowAddress } : {}),
      ...extra,
    });
  const loopbackOk = (a: string) => a === '127.0.0.1';
  const json = (body: unknown) => (res: ServerResponse) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  it('reads a valid document into a public client', async () => {
    routes['/meta.json'] = json({
      client_id: ID,
      client_name: 'Metadata App',
      redirect_uris: ['http://127.0.0.1:7777/cb'],
    });
    await expect(fetcher(loopbackOk).client(ID)).resolves.toMatchObject({
      clientId: ID,
      clientName: 'Metadata App',
      redirectUris: ['http://127.0.0.1:7777/cb'],
      tokenEndpointAuthMethod: 'none',
      source: 'cimd',
    });
  });

  it('refuses a name that resolves to a loopback or private address (SSRF)', async () => {
    await expect(fetcher().client(ID)).rejects.toMatchObject({
      description: expect.stringContaining('non-public address'),
    });
  });

  it('refuses a name whose answers mix public and private addresses', async () => {
    const mixed = new ClientMetadataFetcher({ lookup: async () => ['93.184.216.34', '10.0.0.5'] });
    await expect(mixed.client(ID)).rejects.toMatchObject({
      description: expect.stringContaining('non-public address'),
    });
  });

  it('refuses a plain-http client id', async () => {
    await expect(fetcher(loopbackOk).client('http://client.test/meta.json')).rejects.toMatchObject({
      code: 'invalid_client',
    });
  });

  it('does not follow redirects', async () => {
    routes['/redirect.json'] = (res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    await expect(fetcher(loopbackOk).client('https://client.test/redirect.json')).rejects.toMatchObject({
      description: expect.stringContaining('redirects'),
    });
  });

  it('refuses a document over the size cap', async () => {
    routes['/big.json'] = (res) => res.writeHead(200).end('x'.repeat(100_000));
    await expect(fetcher(loopbackOk, { maxBytes: 1024 }).client('https://client.test/big.json')).rejects.toMatchObject({
      description: expect.stringContaining('larger than 1024 bytes'),
    });
  });

  it('gives up on a server that does not answer in time', async () => {
    routes['/slow.json'] = () => {};
    await expect(fetcher(loopbackOk, { timeoutMs: 200 }).client('https://client.test/slow.json')).rejects.toMatchObject(
      {
        description: expect.stringContaining('in time'),
      },
    );
  });

  it('refuses a document whose client_id is not its own URL', async () => {
    routes['/other.json'] = json({
      client_id: 'https://elsewhere.test/meta.json',
      redirect_uris: ['http://127.0.0.1/cb'],
    });
    await expect(fetcher(loopbackOk).client('https://client.test/other.json')).rejects.toMatchObject({
      description: expect.stringContaining('does not match'),
    });
  });

  it('refuses a document asking for a shared secret', async () => {
    routes['/secret.json'] = json({
      client_id: 'https://client.test/secret.json',
      redirect_uris: ['http://127.0.0.1/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    await expect(fetcher(loopbackOk).client('https://client.test/secret.json')).rejects.toMatchObject({
      code: 'invalid_client',
    });
  });

  it('caches a document', async () => {
    let hits = 0;
    routes['/counted.json'] = (res) => {
      hits++;
      json({ client_id: 'https://client.test/counted.json', redirect_uris: ['http://127.0.0.1/cb'] })(res);
    };
    const f = fetcher(loopbackOk);
    await f.client('https://client.test/counted.json');
    await f.client('https://client.test/counted.json');
    expect(hits).toBe(1);
  });
});
