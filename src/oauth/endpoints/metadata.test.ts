import { describe, expect, it } from 'vitest';
import { LOCAL } from '../testing.js';
import { authorizationServerMetadata, protectedResourceMetadata } from './metadata.js';

describe('metadata endpoints', () => {
  it('RFC 8414: endpoints under the origin’s issuer, and the grant types of the registry', () => {
    const meta = authorizationServerMetadata({
      origin: LOCAL,
      scopes: ['mcp:toy:read'],
      grantTypes: ['authorization_code', 'refresh_token'],
    });
    expect(meta).toMatchObject({
      issuer: LOCAL.issuer,
      token_endpoint: `${LOCAL.issuer}/token`,
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['mcp:toy:read'],
      authorization_response_iss_parameter_supported: true,
    });
  });

  it('RFC 9728: the MCP resource names this origin’s authorization server', () => {
    expect(protectedResourceMetadata(LOCAL, ['mcp:toy:read'])).toMatchObject({
      resource: LOCAL.resource,
      authorization_servers: [LOCAL.issuer],
      scopes_supported: ['mcp:toy:read'],
    });
  });
});
