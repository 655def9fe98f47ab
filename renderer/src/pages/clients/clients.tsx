import { useState } from 'react';
import type { ClientView, ScopeView } from '../../../../src/api/contract.js';
import { api } from '../../api.js';
import { Badge, Card } from '../../components/card.js';
import { DataTable, NameCell, type Column } from '../../components/data-table.js';
import { ErrorText, LoadState } from '../../components/empty-state.js';
import { FieldError, messageOf } from '../../components/form.js';
import { usePolled } from '../../hooks/use-polled.js';
import { PendingApprovals } from '../approvals/approvals.js';
import { PersonalTokens } from '../tokens/tokens.js';

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
      setError(messageOf(e));
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
      <FieldError>{error}</FieldError>
    </div>
  );
}

/** Applications that signed in, what they may use (changeable per server), and a way to cut them off. */
function Applications() {
  const { value: clients, error: loadError, reload } = usePolled(api.clients, 3000);
  const { value: scopes } = usePolled(api.scopes, 10_000);
  const [revokeError, setError] = useState<string | undefined>();

  const revoke = async (client: ClientView) => {
    const label = client.clientName ?? client.clientId;
    if (!window.confirm(`Revoke access for "${label}"? It must ask again before it can use your servers.`)) return;
    setError(undefined);
    await api.revokeClient(client.clientId).catch((e: unknown) => setError(messageOf(e)));
    reload();
  };

  const columns: Column<ClientView>[] = [
    {
      header: 'Application',
      cell: (c) => <NameCell name={c.clientName ?? 'Unnamed application'} detail={c.redirectUris[0]} />,
    },
    {
      header: 'Access',
      cell: (c) =>
        c.activeGrants === 0 && c.lastUsedAt === undefined ? (
          // Registered, never got a token: it stopped at (or is still at) the consent step.
          <Badge tone="connecting">Not signed in yet</Badge>
        ) : c.activeGrants === 0 ? (
          <Badge tone="disabled">Revoked</Badge>
        ) : (
          <AccessEditor client={c} scopes={scopes ?? []} onChanged={reload} />
        ),
    },
    { header: 'Last used', kind: 'muted', cell: (c) => when(c.lastUsedAt) },
  ];

  return (
    <Card title="Applications with access">
      {revokeError && <ErrorText>{revokeError}</ErrorText>}
      <LoadState
        value={clients}
        error={loadError}
        what="the applications"
        isEmpty={(list) => list.length === 0}
        empty={
          <>
            None yet. When an application connects to the MCP endpoint, you approve it on a consent page and it appears
            here. Servers you add later start off for every application: turn them on here, per application.
          </>
        }
      />
      {clients && clients.length > 0 && (
        <DataTable
          label="Applications with access"
          rows={clients}
          columns={columns}
          rowKey={(c) => c.clientId}
          actions={(c) =>
            c.activeGrants > 0 && (
              <button type="button" className="link danger" onClick={() => void revoke(c)}>
                Revoke
              </button>
            )
          }
        />
      )}
    </Card>
  );
}
