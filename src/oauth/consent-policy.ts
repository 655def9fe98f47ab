import type { ConsentPrompter, Origin, PendingConsentView } from './server.js';

export interface ConsentPolicyOptions {
  /**
   * Whether the local listener may be reached from elsewhere: bound to a non-loopback address or
   * relayed through `allowedHosts` (src/http/exposure.ts).
   */
  exposed: boolean;
  /** The local listener's origins as they are now (empty until it listens). */
  localOrigins: () => readonly Origin[];
  /**
   * The embedder's own prompter (the desktop app's): it chooses for sign-ins on this machine's
   * listener, and is told of every request and change. Default: the requesting page for those.
   */
  embedder?: ConsentPrompter;
  /** A sign-in waits in the owner's approval list (the gateway emits `consent-requested`). */
  requested: (request: PendingConsentView) => void;
  /** The approval list changed (the gateway emits `approvals-changed`). */
  changed: () => void;
}

/**
 * Where a sign-in is approved. Every one waits in the owner's approval list. On a listener only this
 * machine reaches, a browser signed in to the console may also approve on the page. Where a request
 * may come from elsewhere (the tunnel; the local listener with `allowedHosts` or bound to a
 * non-loopback address), only the list decides: the requester there is anyone, and a console
 * session in that browser proves too little.
 */
export function createConsentPolicy(options: ConsentPolicyOptions): ConsentPrompter {
  const { embedder } = options;
  const onThisMachine = (origin: Origin) =>
    !options.exposed &&
    origin.listener !== 'tunnel' &&
    options.localOrigins().some((local) => local.issuer === origin.issuer);
  return {
    mode: (origin) => (onThisMachine(origin) ? (embedder?.mode(origin) ?? 'page') : 'owner'),
    requested: (request) => {
      embedder?.requested?.(request);
      options.requested(request);
    },
    changed: () => {
      embedder?.changed?.();
      options.changed();
    },
  };
}
