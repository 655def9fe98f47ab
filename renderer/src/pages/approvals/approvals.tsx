import { useEffect, useState } from 'react';
import type { PendingConsentView, ScopeView } from '../../../../src/api/contract.js';
import { api } from '../../api.js';
import { Actions, FieldError, messageOf } from '../../components/form.js';
import { Badge, Card } from '../../components/card.js';
import { EmptyState } from '../../components/empty-state.js';

/** How often waiting requests are looked for: the client's browser is waiting on the other end. */
const POLL_MS = 2000;

/** Requests waiting for the owner, polled; undefined until the first answer. */
export function usePendingApprovals(): { pending: PendingConsentView[] | undefined; reload: () => void } {
  const [pending, setPending] = useState<PendingConsentView[] | undefined>();
  const [refresh, setRefresh] = useState(0);
  useEffect(() => {
    let alive = true;
    const load = () =>
      api.consents().then(
        (list) => alive && setPending(list),
        // Signed out or briefly unreachable: keep what is shown; the pages say why.
        () => {},
      );
    void load();
    const timer = setInterval(() => void load(), POLL_MS);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [refresh]);
  return { pending, reload: () => setRefresh((n) => n + 1) };
}

function ago(ms: number): string {
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (seconds < 60) return 'just now';
  const minutes = Math.round(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'} ago`;
}

/** "toy: read (1 tool)" for a scope the gateway knows, the scope itself otherwise. */
export function scopeLabel(scope: string, known: readonly ScopeView[]): { title: string; detail?: string } {
  const view = known.find((s) => s.scope === scope);
  if (!view) return { title: scope };
  const tools = `${view.toolCount} tool${view.toolCount === 1 ? '' : 's'}`;
  return view.access === 'read'
    ? { title: `${view.backend}: read`, detail: `read-only tools (${tools}), prompts and resources` }
    : { title: `${view.backend}: write`, detail: `every tool (${tools}), includes read` };
}

/** Where a waiting request came from: listener and address, browser, and how the client is known. */
function Origin({ request }: { request: PendingConsentView }) {
  const client =
    request.clientSource === 'cimd'
      ? `metadata document at ${request.clientDomain ?? request.clientId}`
      : 'registered through /register';
  return (
    <dl className="request-origin">
      <dt>Came in</dt>
      <dd>
        {request.listener === 'tunnel' ? 'through the public tunnel' : "on this machine's listener"} (
        <code>{request.origin}</code>) from <code>{request.remoteAddress ?? 'an unknown address'}</code>
      </dd>
      <dt>Browser</dt>
      <dd>
        <bdi>{request.userAgent ?? 'not given'}</bdi>
      </dd>
      <dt>Client</dt>
      <dd>
        {client}
        {request.clientRegisteredAt !== undefined && <>, {ago(request.clientRegisteredAt)}</>}
      </dd>
      <dt>Returns to</dt>
      <dd>
        <code className="scope">{request.redirectHost}</code>
      </dd>
    </dl>
  );
}

/**
 * One waiting request: its code (the owner checks it is the one their sign-in page shows), who
 * asks and from where, and the scopes: read access ticked, write access only if the owner ticks it.
 */
function Approval({
  request,
  scopes,
  onDecided,
}: {
  request: PendingConsentView;
  scopes: readonly ScopeView[];
  onDecided: () => void;
}) {
  const [chosen, setChosen] = useState<ReadonlySet<string>>(() => new Set(request.suggestedScopes));
  // What the owner may grant here: what the client asked for, and the read access offered instead.
  const offered = [...new Set([...request.suggestedScopes, ...request.requestedScopes])].sort();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const toggle = (scope: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(scope);
    else next.delete(scope);
    setChosen(next);
    setError(undefined);
  };
  const decide = async (decision: 'approve' | 'deny') => {
    if (decision === 'approve' && chosen.size === 0) {
      setError('Tick at least one scope, or deny the request.');
      return;
    }
    setBusy(true);
    try {
      await api.decideConsent(request.id, decision, decision === 'approve' ? [...chosen] : []);
      onDecided();
    } catch (e) {
      setError(messageOf(e));
      setBusy(false);
    }
  };
  return (
    <div className="approval" role="group" aria-label={`Request from ${request.clientName}`}>
      <div className="approval-head">
        <div>
          <div className="name">
            <bdi>{request.clientName}</bdi>
          </div>
          <div className="detail">asked {ago(request.createdAt)}</div>
        </div>
        <Badge tone="degraded">Waiting</Badge>
      </div>
      <div className="request-code">
        <span className="muted-text">Request code</span>
        <code aria-label="Request code">{request.userCode}</code>
        <span className="muted-text">Approve only if the sign-in page in your browser shows this same code.</span>
      </div>
      <Origin request={request} />
      {request.returning && (
        <p className="muted-text">You approved this application before: approving keeps the access ticked below.</p>
      )}
      <fieldset className="checks">
        <legend>
          It asks for {request.requestedScopes.length ? request.requestedScopes.join(', ') : 'no scope in particular'}.
          Grant:
        </legend>
        {offered.length === 0 && <span className="muted-text">No server scopes: only the built-in tools.</span>}
        {offered.map((scope) => {
          const label = scopeLabel(scope, scopes);
          return (
            <label key={scope} className="check">
              <input
                type="checkbox"
                checked={chosen.has(scope)}
                disabled={busy}
                onChange={(e) => toggle(scope, e.target.checked)}
                aria-label={scope}
              />
              <span>
                <span className="check-title">{label.title}</span> <code className="scope">{scope}</code>
                {label.detail && <span className="detail"> {label.detail}</span>}
              </span>
            </label>
          );
        })}
        <FieldError>{error}</FieldError>
      </fieldset>
      <Actions>
        <button type="button" className="secondary" disabled={busy} onClick={() => void decide('deny')}>
          Deny
        </button>
        <button type="button" disabled={busy} onClick={() => void decide('approve')}>
          Approve
        </button>
      </Actions>
    </div>
  );
}

/**
 * Sign-ins that wait for the owner: every one the owner did not approve on its own page (from a
 * browser signed in to the console), and all that came from elsewhere (the tunnel). The client's
 * browser continues by itself once decided.
 */
export function PendingApprovals() {
  const { pending, reload } = usePendingApprovals();
  const [scopes, setScopes] = useState<ScopeView[]>([]);
  const waiting = pending?.length ?? 0;
  useEffect(() => {
    // Tool counts for the labels; fetched again when a new request shows up.
    if (waiting > 0) api.scopes().then(setScopes, () => {});
  }, [waiting]);
  return (
    <Card
      title="Waiting for your approval"
      {...(waiting > 0 ? { tone: 'attention' as const, summary: `${waiting} request${waiting === 1 ? '' : 's'}` } : {})}
    >
      {pending && waiting === 0 && (
        <EmptyState>
          Nothing is waiting. Every application that signs in waits here (and in a desktop notification) with a code its
          sign-in page shows: approve it when the codes match, with only the access it needs. In a browser signed in to
          this console, a sign-in on this computer can also be approved on its own page.
        </EmptyState>
      )}
      {pending?.map((request) => (
        <Approval key={request.id} request={request} scopes={scopes} onDecided={reload} />
      ))}
    </Card>
  );
}
