import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpEndpoint } from '../mcp/endpoint.js';
import type { Identity } from '../mcp/builtins.js';
import type { AuthorizationServer, Origin } from '../oauth/server.js';
import { OAuthError } from '../oauth/errors.js';
import type { VerifiedToken } from '../oauth/tokens.js';
import { sendJsonRpcError, singleRequestId } from '../shared/json-rpc.js';
import { readJsonBody } from './body.js';

export interface HttpAuth {
  server: AuthorizationServer;
  /** The issuer and resource for the origin this request used (loopback spellings differ). */
  originOf: (req: IncomingMessage) => Origin;
  identify: (token: VerifiedToken) => Identity;
  /** For a request outside the grant, the scope that would allow it (the method table decides). */
  scopeNeeded: (identity: Identity, body: unknown) => string | undefined;
  supportedScopes: () => readonly string[];
  /**
   * The resources a token presented on this listener may be bound to. The authorization server
   * knows the local and the tunnel origins; each listener accepts only its own (RFC 8707 audience).
   */
  audiences?: () => readonly string[];
}

export interface McpRouteOptions {
  endpoint: McpEndpoint;
  settings: { maxBodyBytes: number };
  auth?: HttpAuth;
}

/**
 * `/mcp`, served straight from node:http (the hot path: express's routing cost shows in the
 * benchmark): bearer authentication, the body under its size cap, the scope check, then the endpoint.
 */
export async function handleMcp(req: IncomingMessage, res: ServerResponse, options: McpRouteOptions): Promise<void> {
  if (req.method !== 'POST' && req.method !== 'GET' && req.method !== 'DELETE') {
    res.setHeader('Allow', 'GET, POST, DELETE');
    sendJsonRpcError(res, 405, -32000, 'Method not allowed');
    return;
  }
  let identity: Identity | undefined;
  if (options.auth) {
    identity = await authenticate(req, res, options.auth);
    if (!identity) return;
  }
  let body: unknown;
  if (req.method === 'POST') {
    const read = await readJsonBody(req, options.settings.maxBodyBytes);
    if (!read.ok) {
      // JSON-RPC 2.0 §5.1: -32700 for unparseable JSON; an oversized body is an invalid request.
      sendJsonRpcError(res, read.status, read.status === 400 && read.parseError ? -32700 : -32600, read.message);
      return;
    }
    body = read.value;
    const needed = identity && options.auth?.scopeNeeded(identity, body);
    if (needed) {
      // RFC 6750 §3.1: the call is understood but the grant is too narrow; say which scope would do.
      const origin = options.auth!.originOf(req);
      res.setHeader(
        'WWW-Authenticate',
        `Bearer error="insufficient_scope", scope="${needed}", resource_metadata="${origin.issuer}/.well-known/oauth-protected-resource/mcp"`,
      );
      sendJsonRpcError(
        res,
        403,
        -32003,
        `insufficient_scope: this call needs the scope ${needed}`,
        singleRequestId(body),
      );
      return;
    }
  }
  await options.endpoint.handle(req, res, body, identity);
}

/**
 * Bearer authentication for /mcp, on every request including the first initialize (MCP
 * authorization spec; RFC 6750 §3). The 401 points at the protected resource metadata.
 */
async function authenticate(req: IncomingMessage, res: ServerResponse, auth: HttpAuth): Promise<Identity | undefined> {
  const origin = auth.originOf(req);
  const metadata = `${origin.issuer}/.well-known/oauth-protected-resource/mcp`;
  const header = req.headers.authorization;
  const challenge = (error?: OAuthError) => {
    const scopes = auth.supportedScopes().join(' ');
    // RFC 6750 §3: scope lists what the resource accepts; with no backend configured there is none to name.
    const parts = [`resource_metadata="${metadata}"`, ...(scopes ? [`scope="${scopes}"`] : [])];
    if (error) parts.unshift(`error="${error.code}"`, `error_description="${error.description.replace(/"/g, "'")}"`);
    res.setHeader('WWW-Authenticate', `Bearer ${parts.join(', ')}`);
    const payload = JSON.stringify(
      error ? error.toBody() : { error: 'invalid_token', error_description: 'Authorization required' },
    );
    res.writeHead(401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
    return undefined;
  };
  if (!header || !/^Bearer\s+/i.test(header)) return challenge();
  try {
    const token = await auth.server.verify(header.replace(/^Bearer\s+/i, '').trim());
    if (auth.audiences && !auth.audiences().some((aud) => sameResource(aud, token.audience))) {
      return challenge(new OAuthError('invalid_token', 'Token is for another resource'));
    }
    return auth.identify(token);
  } catch (error) {
    return challenge(error instanceof OAuthError ? error : new OAuthError('invalid_token', 'Invalid token'));
  }
}

const sameResource = (a: string, b: string) => a.replace(/\/$/, '') === b.replace(/\/$/, '');
