import { useState } from 'react';
import type { ClientView } from '../../src/api/contract.js';
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

/** Applications that signed in, what they were granted, and a way to cut them off. */
function Applications() {
  const { value: clients, error: loadError, reload } = usePolled(api.clients, 3000);
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
          here.
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
                  ) : c.scopes.length === 0 ? (
                    <span className="muted-text">built-in tools only</span>
                  ) : (
                    c.scopes.map((s) => (
                      <span key={s} className="scope">
                        {s}
                      </span>
                    ))
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
