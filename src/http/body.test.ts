import { Readable } from 'node:stream';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { clientBodyFailure } from './body.js';

/** What express's own parser throws for this body: a real body-parser error, not a look-alike. */
function parserError(
  parser: express.RequestHandler,
  body: string,
  headers: Record<string, string> = {},
): Promise<unknown> {
  const req = Object.assign(Readable.from([Buffer.from(body)]), {
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
    method: 'POST',
    url: '/',
  });
  return new Promise((resolve) => {
    parser(req as unknown as express.Request, {} as express.Response, (error?: unknown) => resolve(error));
  });
}

describe('clientBodyFailure', () => {
  it('answers a body over the limit with 413, naming the limit', async () => {
    const error = await parserError(express.json({ limit: '64kb' }), JSON.stringify({ pad: 'x'.repeat(70_000) }));
    expect(clientBodyFailure(error)).toEqual({ status: 413, message: 'Request body is too large (limit 64 KiB)' });
  });

  it('answers malformed JSON with 400', async () => {
    const error = await parserError(express.json(), '{"a": ');
    expect(clientBodyFailure(error)).toEqual({ status: 400, message: 'Malformed request body' });
  });

  it('answers a form with too many parameters with 413', async () => {
    const body = Array.from({ length: 20 }, (_, i) => `k${i}=v`).join('&');
    const error = await parserError(express.urlencoded({ extended: false, parameterLimit: 10 }), body, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(clientBodyFailure(error)).toMatchObject({ status: 413 });
  });

  it('answers an unsupported charset with 415', async () => {
    const error = await parserError(express.json(), '{}', { 'content-type': 'application/json; charset=klingon' });
    expect(clientBodyFailure(error)).toMatchObject({ status: 415 });
  });

  it('leaves any other error to the server error path', () => {
    expect(clientBodyFailure(new Error('boom'))).toBeUndefined();
    expect(clientBodyFailure(Object.assign(new Error('x'), { type: 'stream.not.readable', status: 500 }))).toBe(
      undefined,
    );
    expect(clientBodyFailure(undefined)).toBeUndefined();
  });
});
