import type { Origin } from '../context.js';

/** Where this server's endpoints are and what it supports; the same for every origin it answers on. */
export interface MetadataInput {
  origin: Origin;
  scopes: readonly string[];
  /** The grant types the token endpoint's registry holds. */
  grantTypes: readonly string[];
}

/** RFC 8414 authorization server metadata. */
export function authorizationServerMetadata({ origin, scopes, grantTypes }: MetadataInput): Record<string, unknown> {
  const base = origin.issuer;
  return {
    issuer: base,
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    registration_endpoint: `${base}/register`,
    revocation_endpoint: `${base}/revoke`,
    jwks_uri: `${base}/jwks.json`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: [...grantTypes],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
    scopes_supported: [...scopes],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: true,
  };
}

/** RFC 9728 protected resource metadata for the MCP endpoint. */
export function protectedResourceMetadata(origin: Origin, scopes: readonly string[]): Record<string, unknown> {
  return {
    resource: origin.resource,
    authorization_servers: [origin.issuer],
    scopes_supported: [...scopes],
    bearer_methods_supported: ['header'],
    resource_name: 'Cortex Gateway',
  };
}
