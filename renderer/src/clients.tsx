import { useState } from 'react';
import type { ClientView, ScopeView } from '../../src/api/contract.js';
import { api } from './api.js';
import { PendingApprovals } from './approvals.js';
import { PersonalTokens } from './tokens.js';
import { usePolled } from './use-polled.js';

function when(ms: number | undefined): string {
  return ms === undefined ? 'never' : new Date(ms).toLocaleString();
}

/** Who may use the gateway: requests waiting for approval, applications that signed in, and tokens. */
export function Clients() {
  return (
    <>
      <PendingApprovals />
      <Applications />
      <PersonalTokens />
    </>
  );
}

type Level = 'off' | 'read' | 'write';

/**
 * What an application may use, server by server: off, read (read-only tools, prompts, resources)
 * or write (every tool). A change applies to the application's next request; a server added later
 * starts off for it. Scopes of servers not listed here (disabled ones) are kept as they are.
 */
function AccessEditor({
  client,
  scopes,
  onChanged,
}: {
  client: ClientView;
  scopes: readonly ScopeView[];
  onChanged: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const backends = [...new Set(scopes.map((s) => s.backend))];
  const scopeOf = (backend: string, access: 'read' | 'write') =>
    scopes.find((s) => s.backend === backend && s.access === access)?.scope;
  const levelOf = (backend: string): Level => {
    const write = scopeOf(backend, 'write');
    const read = scopeOf(backend, 'read');
    if (write && client.scopes.includes(write)) return 'write';
    return read && client.scopes.includes(read) ? 'read' : 'off';
  };
  const change = async (backend: string, level: Level) => {
    const own = new Set(scopes.filter((s) => s.backend === backend).map((s) => s.scope));
    const next = client.scopes.filter((scope) => !own.has(scope));
    const chosen = level === 'off' ? undefined : scopeOf(backend, level);
    if (chosen) next.push(chosen);
    setBusy(true);
    setError(undefined);
    try {
      await api.setClientScopes(client.clientId, next);
      onChanged();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  if (backends.length === 0) return <span className="muted-text">No servers yet: built-in tools only.</span>;
  const label = client.clientName ?? client.clientId;
  return (
    <div className="access">
      {backends.map((backend) => (
        <label key={backend} className="access-row">
          <span className="name">{backend}</span>
          <select
            value={levelOf(backend)}
            disabled={busy}
            onChange={(e) => void change(backend, e.target.value as Level)}
            aria-label={`${label}: access to ${backend}`}
          >
            <option value="off">Off</option>
            <option value="read">Read</option>
            <option value="write">Write</option>
          </select>
        </label>
      ))}
      {error && <span className="field-error">{error}</span>}
    </div>
  );
}

/** Applications that signed in, what they may use (changeable per server), and a way to cut them off. */
function Applications() {
  const { value: clients, error: loadError, reload } = usePolled(api.clients, 3000);
  const { value: scopes } = usePolled(api.scopes, 10_000);
  const [revokeError, setError] = useState<string | undefined>();
  const error = revokeError ?? loadError;

  const revoke = async (client: ClientView) => {
    const label = client.clientName ?? client.clientId;
    if (!window.confirm(`Revoke access for "${label}"? It must ask again before it can use your servers.`)) return;
    await api.revokeClient(client.clientId).catch((e: unknown) => setError(String(e)));
    reload();
  };

  return (
    <section className="card">
      <div className="card-head">
        <h2>Applications with access</h2>
      </div>
      {error && <p className="error">Could not load the applications: {error}</p>}
      {clients && clients.length === 0 && (
        <p className="muted-text">
          None yet. When an application connects to the MCP endpoint, you approve it on a consent page and it appears
          here. Servers you add later start off for every application: turn them on here, per application.
        </p>
      )}
      {clients && clients.length > 0 && (
        <table className="backends">
          <thead>
            <tr>
              <th>Application</th>
              <th>Access</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {clients.map((c) => (
              <tr key={c.clientId}>
                <td>
                  <div className="name">{c.clientName ?? 'Unnamed application'}</div>
                  <div className="kind">{c.redirectUris[0]}</div>
                </td>
                <td>
                  {c.activeGrants === 0 && c.lastUsedAt === undefined ? (
                    // Registered, never got a token: it stopped at (or is still at) the consent step.
                    <span className="badge badge-connecting">Not signed in yet</span>
                  ) : c.activeGrants === 0 ? (
                    <span className="badge badge-disabled">Revoked</span>
                  ) : (
                    <AccessEditor client={c} scopes={scopes ?? []} onChanged={reload} />
                  )}
                </td>
                <td className="muted-text">{when(c.lastUsedAt)}</td>
                <td className="row-actions">
                  {c.activeGrants > 0 && (
                    <button type="button" className="link danger" onClick={() => void revoke(c)}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
