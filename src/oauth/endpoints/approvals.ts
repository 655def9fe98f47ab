import type { ServerContext } from '../context.js';
import { newUserCode, type Requester } from '../requester.js';
import type { PendingConsentView } from '../views.js';

/** An authorization request between the authorization endpoint and the owner's decision. */
export interface PendingAuthorization {
  id: string;
  csrf: string;
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  codeChallenge: string;
  resource: string;
  issuer: string;
  requestedScopes: string[];
  createdAt: number;
  mode: 'page' | 'owner';
  /** The owner's decision in the app, collected by the waiting browser on its next poll. */
  decision?: { approve: boolean; scopes: string[] };
}

/** A request in the owner's approval list: who made it, and the code its page shows. */
export interface WaitingRequest extends PendingAuthorization {
  userCode: string;
  listener: 'local' | 'tunnel';
  requester: Requester;
  /** What approving grants unless the owner chooses: read access at most, or what the owner granted before. */
  suggestedScopes: string[];
  /** The owner approved this client before: approving again keeps that grant. */
  returning: boolean;
}

/** A listed request waits this long for the owner. */
export const PENDING_TTL_MS = 10 * 60_000;

/**
 * The owner's approval list is open to anyone who can reach a listener (a metadata-document client
 * needs no registration), so what one requester can put in it is capped: in all, per client and
 * per address. A request over a cap is not listed and notifies nobody. Where an owner session in
 * the browser may approve on the page, it is still served, as an unlisted request the gateway keeps
 * nothing of (its page carries it, sealed): nothing can fill that up, so the owner's own sign-in
 * can always be approved from a browser signed in to the console. Elsewhere it is refused (429).
 */
export const LISTED_CAPS = { total: 20, perClient: 3, perAddress: 5 } as const;

/** A Map that reports each set and each delete that removed something. */
class ReportingMap<K, V> extends Map<K, V> {
  constructor(readonly report: () => void) {
    super();
  }
  override set(key: K, value: V): this {
    super.set(key, value);
    // Map's constructor calls set before `report` exists; nothing to report then.
    this.report?.();
    return this;
  }
  override delete(key: K): boolean {
    const removed = super.delete(key);
    if (removed) this.report();
    return removed;
  }
}

/**
 * The owner's approval list (console, tray, `approvals` CLI): requests waiting for a decision, each
 * with the short code its page shows. Every change is reported to the prompter (`changed`), so the
 * app recounts instead of polling.
 */
export class ApprovalQueue {
  readonly #ctx: ServerContext;
  readonly #pending: ReportingMap<string, WaitingRequest>;

  constructor(ctx: ServerContext) {
    this.#ctx = ctx;
    this.#pending = new ReportingMap(() => ctx.prompter.changed?.());
  }

  /** Drops requests older than PENDING_TTL_MS. */
  expire(): void {
    const now = this.#ctx.clock.now();
    for (const [id, pending] of this.#pending) if (now - pending.createdAt > PENDING_TTL_MS) this.#pending.delete(id);
  }

  /** Whether the list holds as many undecided requests as LISTED_CAPS allow, for this requester. */
  full(clientId: string, address: string | undefined): boolean {
    const listed = [...this.#pending.values()].filter((p) => !p.decision);
    return (
      listed.length >= LISTED_CAPS.total ||
      listed.filter((p) => p.clientId === clientId).length >= LISTED_CAPS.perClient ||
      (address !== undefined && listed.filter((p) => p.requester.address === address).length >= LISTED_CAPS.perAddress)
    );
  }

  /** Lists a request under a fresh code, and tells the prompter (the app notifies the owner). */
  add(request: Omit<WaitingRequest, 'userCode'>): WaitingRequest {
    let userCode = newUserCode();
    while ([...this.#pending.values()].some((p) => p.userCode === userCode)) userCode = newUserCode();
    const waiting: WaitingRequest = { ...request, userCode };
    this.#pending.set(waiting.id, waiting);
    // Expiry is otherwise noticed lazily; the app's count must drop when the request does.
    setTimeout(() => this.expire(), PENDING_TTL_MS + 1000).unref();
    const view = this.view(waiting);
    this.#ctx.logger.info('sign-in waits for the owner', {
      clientId: waiting.clientId,
      listener: view.listener,
      requestCode: userCode,
    });
    this.#ctx.prompter.requested?.(view);
    return waiting;
  }

  get(id: string): WaitingRequest | undefined {
    return this.#pending.get(id);
  }

  /** Takes a request off the list to finish it; `restore` puts it back when finishing failed. */
  take(request: WaitingRequest): () => void {
    this.#pending.delete(request.id);
    return () => this.#pending.set(request.id, request);
  }

  /** Requests waiting for the owner's decision, oldest first. */
  list(): PendingConsentView[] {
    this.expire();
    return [...this.#pending.values()].filter((p) => !p.decision).map((p) => this.view(p));
  }

  /**
   * The owner's decision in the approval list; the waiting browser picks it up on its next poll.
   * Without `scopes` the request gets its suggested scopes: read access at most.
   */
  decide(id: string, approve: boolean, scopes?: readonly string[]): boolean {
    this.expire();
    const pending = this.#pending.get(id);
    if (!pending || pending.decision) return false;
    pending.decision = { approve, scopes: [...(scopes ?? pending.suggestedScopes)] };
    this.#ctx.prompter.changed?.();
    this.#ctx.logger.info(approve ? 'owner approved a sign-in' : 'owner denied a sign-in', {
      clientId: pending.clientId,
      requestCode: pending.userCode,
    });
    return true;
  }

  /** A waiting request as the owner's approval views show it: what it asks and where it came from. */
  view(pending: WaitingRequest): PendingConsentView {
    const client = this.#ctx.store.state.clients[pending.clientId];
    const redirect = new URL(pending.redirectUri);
    const cimd = client?.source === 'cimd';
    return {
      id: pending.id,
      userCode: pending.userCode,
      clientId: pending.clientId,
      clientName: client?.clientName ?? 'An unnamed application',
      clientSource: cimd ? 'cimd' : 'dcr',
      ...(cimd ? { clientDomain: new URL(pending.clientId).host } : {}),
      ...(client ? { clientRegisteredAt: client.createdAt } : {}),
      redirectHost: redirect.host || redirect.protocol,
      requestedScopes: pending.requestedScopes,
      suggestedScopes: pending.suggestedScopes,
      ...(pending.returning ? { returning: true } : {}),
      listener: pending.listener,
      origin: pending.issuer,
      ...(pending.requester.address ? { remoteAddress: pending.requester.address } : {}),
      ...(pending.requester.userAgent ? { userAgent: pending.requester.userAgent } : {}),
      createdAt: pending.createdAt,
    };
  }
}
