import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../shared/clock.js';
import { OAuthError } from './errors.js';
import { SIGNING_ALG, type KeyRing } from './keys.js';

/** What the resource side learns from a valid access token. */
export interface VerifiedToken {
  subject: string;
  clientId: string;
  scopes: string[];
  jti: string;
  expiresAt: number;
  audience: string;
}

/** The only thing /mcp needs from the authorization server. */
export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

export interface IssueAccessToken {
  subject: string;
  clientId: string;
  scopes: readonly string[];
  resource: string;
  ttlSeconds: number;
}

/** RFC 9068 JWT access tokens: ES256, `typ: at+jwt`, audience-bound to one resource. */
export async function issueAccessToken(
  keys: KeyRing,
  issuer: string,
  clock: Clock,
  input: IssueAccessToken,
): Promise<{ token: string; jti: string; expiresAt: number }> {
  const now = Math.floor(clock.now() / 1000);
  const jti = randomUUID();
  const { kid, privateKey } = keys.signingKey;
  const expiresAt = now + input.ttlSeconds;
  const token = await new SignJWT({ client_id: input.clientId, scope: input.scopes.join(' ') })
    .setProtectedHeader({ alg: SIGNING_ALG, typ: 'at+jwt', kid })
    .setIssuer(issuer)
    .setAudience(input.resource)
    .setSubject(input.subject)
    .setIssuedAt(now)
    .setExpirationTime(expiresAt)
    .setJti(jti)
    .sign(privateKey);
  return { token, jti, expiresAt: expiresAt * 1000 };
}

const stripSlash = (value: string) => (value.endsWith('/') ? value.slice(0, -1) : value);

export interface VerifierOptions {
  keys: KeyRing;
  /** Issuers we sign as: one per origin the gateway answers on. */
  issuers: () => readonly string[];
  /** Resource URLs this gateway answers for; `aud` must be one of them (a trailing slash is tolerated). */
  resources: () => readonly string[];
  clock: Clock;
  /** Revocation check: a revoked token id, or a client whose grants were revoked after `issuedAt`. */
  isRevoked: (token: { jti: string; clientId: string; issuedAt: number }) => boolean;
}

/** A verification remembered: the claims, with what each later use checks again. */
interface Verified {
  claims: VerifiedToken;
  /** The key that signed it, which must still be in the key ring. */
  kid: string;
  issuedAt: number;
}

/**
 * Checks, in order: our algorithm only (no `none`, no HMAC with a public key), `typ: at+jwt` (an ID
 * token is not an access token), a key we published, the signature, issuer, expiry, audience, the
 * claims we rely on, and revocation. Any failure is `invalid_token` with a reason for the log.
 */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  // Signature checks cost more than the rest of a relayed call; a token that verified once is
  // remembered (bounded), while on every use expiry and revocation are checked again, and that its
  // signing key is still published: a key dropped at rotation takes its tokens with it.
  const verified = new Map<string, Verified>();
  const CACHE_LIMIT = 1000;
  return async (token) => {
    const hit = verified.get(token);
    if (hit) {
      if (!options.keys.publicKey(hit.kid)) {
        verified.delete(token);
        throw new OAuthError('invalid_token', 'Unknown signing key');
      }
      const { claims } = hit;
      if (options.clock.now() >= claims.expiresAt) {
        verified.delete(token);
        throw new OAuthError('invalid_token', 'Token expired');
      }
      if (options.isRevoked({ jti: claims.jti, clientId: claims.clientId, issuedAt: hit.issuedAt })) {
        throw new OAuthError('invalid_token', 'Token revoked');
      }
      return { ...claims };
    }
    const result = await verifyFully(token);
    if (verified.size >= CACHE_LIMIT) verified.delete(verified.keys().next().value!);
    verified.set(token, result);
    return { ...result.claims };
  };

  async function verifyFully(token: string): Promise<Verified> {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new OAuthError('invalid_token', 'Malformed token');
    }
    if (header.alg !== SIGNING_ALG) throw new OAuthError('invalid_token', `Unexpected algorithm ${String(header.alg)}`);
    if (header.typ !== 'at+jwt') throw new OAuthError('invalid_token', 'Not an access token (typ must be at+jwt)');
    const key = options.keys.publicKey(header.kid);
    if (!key) throw new OAuthError('invalid_token', 'Unknown signing key');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [SIGNING_ALG],
        typ: 'at+jwt',
        issuer: [...options.issuers()],
        currentDate: new Date(options.clock.now()),
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'aud'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new OAuthError('invalid_token', 'Token expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed) {
        throw new OAuthError('invalid_token', `Claim check failed: ${error.claim}`);
      }
      throw new OAuthError('invalid_token', 'Invalid token signature');
    }
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const accepted = new Set(options.resources().map(stripSlash));
    const audience = audiences.find((aud) => typeof aud === 'string' && accepted.has(stripSlash(aud)));
    if (!audience) throw new OAuthError('invalid_token', 'Token is for another resource');
    if (typeof payload.client_id !== 'string' || typeof payload.scope !== 'string') {
      throw new OAuthError('invalid_token', 'Token lacks client_id or scope');
    }
    if (options.isRevoked({ jti: payload.jti!, clientId: payload.client_id, issuedAt: payload.iat! * 1000 })) {
      throw new OAuthError('invalid_token', 'Token revoked');
    }
    const claims: VerifiedToken = {
      subject: payload.sub!,
      clientId: payload.client_id,
      scopes: payload.scope.split(' ').filter(Boolean),
      jti: payload.jti!,
      expiresAt: payload.exp! * 1000,
      audience,
    };
    return { claims, kid: header.kid!, issuedAt: payload.iat! * 1000 };
  }
}
