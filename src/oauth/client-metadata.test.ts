import { createServer, request, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleLogger } from '../shared/logger.js';
import { ClientMetadataFetcher, isMetadataClientId } from './client-metadata.js';

describe('isMetadataClientId', () => {
  it('accepts an https URL with a path', () =>
    expect(isMetadataClientId('https://app.example.com/oauth/client.json')).toBe(true));
  for (const id of [
    'http://app.example.com/client.json',
    'https://app.example.com/',
    'https://u:p@app.example.com/c',
    'https://app.example.com/c#x',
    'https://app.example.com/c\nx',
    'https://app.example.com/c\tx',
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

  /** A logger whose lines the test reads. */
  const recorder = () => {
    const lines: string[] = [];
    return { lines, logger: createConsoleLogger({ level: 'debug', write: (line) => lines.push(line) }) };
  };
  const GENERIC = 'Client metadata document refused: the document could not be fetched';

  describe('the address fence', () => {
    const embedding = {
      'IPv4-mapped': '::ffff:7f00:1',
      'IPv4-compatible': '::7f00:1',
      'IPv4-translated': '::ffff:0:7f00:1',
      NAT64: '64:ff9b::7f00:1',
      '6to4': '2002:7f00:1::1',
      Teredo: '2001:0:808:808::80ff:fffe',
      'NAT64 to the cloud metadata service': '64:ff9b::a9fe:a9fe',
    };
    for (const [form, address] of Object.entries(embedding)) {
      it(`refuses a ${form} host literal [${address}] without connecting`, async () => {
        let connections = 0;
        const f = new ClientMetadataFetcher({
          request: (options, onResponse) => {
            connections++;
            return request({ ...options, port }, onResponse);
          },
        });
        await expect(f.client(`https://[${address}]/meta.json`)).rejects.toMatchObject({ description: GENERIC });
        expect(connections).toBe(0);
      });

      it(`refuses a name that resolves to the ${form} address ${address}`, async () => {
        const f = new ClientMetadataFetcher({ lookup: async () => [address] });
        await expect(f.client(ID)).rejects.toMatchObject({ description: GENERIC });
      });
    }

    it('refuses a name that resolves to a loopback address (SSRF)', async () => {
      await expect(fetcher().client(ID)).rejects.toMatchObject({ code: 'invalid_client', description: GENERIC });
    });

    it('refuses a name whose answers mix public and private addresses', async () => {
      const mixed = new ClientMetadataFetcher({ lookup: async () => ['93.184.216.34', '10.0.0.5'] });
      await expect(mixed.client(ID)).rejects.toMatchObject({ description: GENERIC });
    });
  });

  describe('what the requester is told', () => {
    it('is the same generic message for a private address, and the log has the detail', async () => {
      const { lines, logger } = recorder();
      const f = new ClientMetadataFetcher({ lookup: async () => ['64:ff9b::a00:5'], logger });
      const error = (await f.client(ID).catch((e: unknown) => e)) as { description: string };
      expect(error.description).toBe(GENERIC);
      expect(error.description).not.toContain('64:ff9b');
      expect(lines.join('\n')).toContain('client.test resolves to a non-public address (64:ff9b::a00:5)');
    });

    it('does not reveal the port or errno of a refused connection; the log has them', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const closedPort = (closed.address() as { port: number }).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const { lines, logger } = recorder();
      const f = new ClientMetadataFetcher({
        lookup: async () => ['127.0.0.1'],
        allowAddress: loopbackOk,
        request: (options, onResponse) => request({ ...options, port: closedPort }, onResponse),
        logger,
      });
      const error = (await f.client(ID).catch((e: unknown) => e)) as { description: string };
      expect(error.description).toBe(GENERIC);
      expect(error.description).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|\d{4,5}/);
      expect(lines.join('\n')).toContain(`ECONNREFUSED 127.0.0.1:${closedPort}`);
    });

    it('does not reveal a resolution failure', async () => {
      const { lines, logger } = recorder();
      const f = new ClientMetadataFetcher({
        lookup: () => Promise.reject(new Error('getaddrinfo ENOTFOUND intranet.corp')),
        logger,
      });
      await expect(f.client('https://intranet.corp/meta.json')).rejects.toMatchObject({ description: GENERIC });
      expect(lines.join('\n')).toContain('ENOTFOUND intranet.corp');
    });
  });

  it('refuses a plain-http client id', async () => {
    await expect(fetcher(loopbackOk).client('http://client.test/meta.json')).rejects.toMatchObject({
      code: 'invalid_client',
    });
  });

  it('does not follow redirects', async () => {
    routes['/redirect.json'] = (res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
    const { lines, logger } = recorder();
    await expect(fetcher(loopbackOk, { logger }).client('https://client.test/redirect.json')).rejects.toMatchObject({
      description: GENERIC,
    });
    expect(lines.join('\n')).toContain('redirects are not followed');
  });

  describe('the size cap', () => {
    it('refuses a document that says it is over the cap, before reading it', async () => {
      routes['/big.json'] = (res) => res.writeHead(200, { 'content-length': '100000' }).end('x'.repeat(100_000));
      await expect(
        fetcher(loopbackOk, { maxBytes: 1024 }).client('https://client.test/big.json'),
      ).rejects.toMatchObject({ description: expect.stringContaining('larger than 1024 bytes') });
    });

    it('refuses a chunked document that grows past the cap', async () => {
      routes['/chunked.json'] = (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 100; i++) res.write('x'.repeat(1000));
        res.end();
      };
      await expect(
        fetcher(loopbackOk, { maxBytes: 4096 }).client('https://client.test/chunked.json'),
      ).rejects.toMatchObject({ description: expect.stringContaining('larger than 4096 bytes') });
    });

    it('has a default cap of 64 KiB', async () => {
      routes['/huge.json'] = (res) => res.writeHead(200).end('x'.repeat(64 * 1024 + 1));
      await expect(fetcher(loopbackOk).client('https://client.test/huge.json')).rejects.toMatchObject({
        description: expect.stringContaining(`larger than ${64 * 1024} bytes`),
      });
    });
  });

  describe('the total deadline', () => {
    it('cuts a document dripping one byte at a time, though the connection is never idle', async () => {
      routes['/drip.json'] = (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{');
        const drip = setInterval(() => res.write(' '), 20);
        res.once('close', () => clearInterval(drip));
      };
      const { lines, logger } = recorder();
      const started = Date.now();
      await expect(
        fetcher(loopbackOk, { timeoutMs: 300, logger }).client('https://client.test/drip.json'),
      ).rejects.toMatchObject({ description: GENERIC });
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(290);
      // Generous for a loaded machine, and still far below what an idle timeout would allow (never).
      expect(elapsed).toBeLessThan(5_000);
      expect(lines.join('\n')).toContain('no complete answer within 300 ms');
    });

    it('gives up on a server that sends no headers', async () => {
      routes['/slow.json'] = () => {};
      await expect(
        fetcher(loopbackOk, { timeoutMs: 200 }).client('https://client.test/slow.json'),
      ).rejects.toMatchObject({ description: GENERIC });
    });

    it('counts DNS resolution against the same deadline', async () => {
      const { lines, logger } = recorder();
      const f = new ClientMetadataFetcher({ lookup: () => new Promise(() => {}), timeoutMs: 200, logger });
      await expect(f.client(ID)).rejects.toMatchObject({ description: GENERIC });
      expect(lines.join('\n')).toContain('no complete answer within 200 ms');
    });
  });

  describe('the rate limit', () => {
    const doc = (path: string) =>
      json({ client_id: `https://client.test${path}`, redirect_uris: ['http://127.0.0.1/cb'] });

    it('limits fetches of one client id, and lets them through again after the window', async () => {
      let now = 1_000_000;
      let hits = 0;
      routes['/failing.json'] = (res) => {
        hits++;
        res.writeHead(500).end();
      };
      const f = fetcher(loopbackOk, { now: () => now, perClientLimit: 3, limitWindowMs: 60_000 });
      for (let i = 0; i < 3; i++) {
        await expect(f.client('https://client.test/failing.json')).rejects.toMatchObject({ description: GENERIC });
      }
      await expect(f.client('https://client.test/failing.json')).rejects.toMatchObject({
        code: 'temporarily_unavailable',
        status: 429,
      });
      expect(hits).toBe(3);
      now += 60_000;
      await expect(f.client('https://client.test/failing.json')).rejects.toMatchObject({ description: GENERIC });
      expect(hits).toBe(4);
    });

    it('limits fetches of distinct client ids together, so a flood of new ids cannot fetch without bound', async () => {
      let hits = 0;
      for (let i = 0; i < 12; i++) {
        routes[`/flood-${i}.json`] = (res) => {
          hits++;
          doc(`/flood-${i}.json`)(res);
        };
      }
      const { lines, logger } = recorder();
      const f = fetcher(loopbackOk, { now: () => 5_000_000, totalLimit: 10, logger });
      const results = [];
      for (let i = 0; i < 12; i++) {
        results.push(
          await f.client(`https://client.test/flood-${i}.json`).then(
            () => 'ok',
            (e: { code: string }) => e.code,
          ),
        );
      }
      expect(results.slice(0, 10)).toEqual(new Array(10).fill('ok'));
      expect(results.slice(10)).toEqual(['temporarily_unavailable', 'temporarily_unavailable']);
      expect(hits).toBe(10);
      expect(lines.join('\n')).toContain('client metadata fetch rate-limited');
      // A document already fetched is served from the cache, whatever the limit.
      await expect(f.client('https://client.test/flood-0.json')).resolves.toMatchObject({ source: 'cimd' });
    });

    it('fetches once for simultaneous requests with one client id', async () => {
      let hits = 0;
      routes['/together.json'] = (res) => {
        hits++;
        setTimeout(() => doc('/together.json')(res), 50);
      };
      const f = fetcher(loopbackOk, { perClientLimit: 1 });
      const all = await Promise.all([1, 2, 3, 4].map(() => f.client('https://client.test/together.json')));
      expect(all.every((record) => record.clientId === 'https://client.test/together.json')).toBe(true);
      expect(hits).toBe(1);
    });
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
