import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

/**
 * An in-memory OAuthClientProvider, as a desktop client would implement it: it registers, keeps
 * tokens, and "opens the browser" by recording the authorization URL for the test to visit.
 */
export class MemoryOAuthProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;

  constructor(
    readonly redirect = 'http://127.0.0.1:53682/callback',
    readonly name = 'Test Desktop Client',
    readonly scope?: string,
  ) {}

  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.name,
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...(this.scope ? { scope: this.scope } : {}),
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

export interface ConsentForm {
  action: string;
  requestId: string;
  csrf: string;
  scopes: Array<{ value: string; checked: boolean }>;
  html: string;
  headers: Headers;
}

/** Opens the authorization URL like a browser and reads the consent form (no JavaScript needed). */
export async function openConsent(authorizationUrl: URL): Promise<ConsentForm> {
  const res = await fetch(authorizationUrl, { redirect: 'manual' });
  const html = await res.text();
  if (res.status !== 200) throw new Error(`consent page answered ${res.status}: ${html.slice(0, 200)}`);
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
  const scopes = [...html.matchAll(/<input type="checkbox" name="scope" value="([^"]+)"( checked)?>/g)].map((m) => ({
    value: m[1]!,
    checked: Boolean(m[2]),
  }));
  return {
    action: new URL('/consent', authorizationUrl).href,
    requestId: field('request_id'),
    csrf: field('csrf'),
    scopes,
    html,
    headers: res.headers,
  };
}

/** Submits the consent form as the owner would, returning the redirect the browser would follow. */
export async function submitConsent(
  form: ConsentForm,
  decision: 'approve' | 'deny',
  scopes: string[] = form.scopes.filter((s) => s.checked).map((s) => s.value),
  overrides: { csrf?: string; requestId?: string } = {},
): Promise<Response> {
  const body = new URLSearchParams({
    request_id: overrides.requestId ?? form.requestId,
    csrf: overrides.csrf ?? form.csrf,
    decision,
  });
  for (const scope of scopes) body.append('scope', scope);
  return fetch(form.action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(form.action).origin },
    body,
  });
}

/** Runs the owner's side of a consent: open, approve (optionally narrowing), return the callback URL. */
export async function approve(authorizationUrl: URL, scopes?: string[]): Promise<URL> {
  const form = await openConsent(authorizationUrl);
  const res = await submitConsent(form, 'approve', scopes);
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`consent answered ${res.status}`);
  return new URL(location);
}
