import { useState } from 'react';
import type { BackendEntry, BackendStatus } from '../../../../src/api/contract.js';
import { api } from '../../api.js';
import { Badge, Card } from '../../components/card.js';
import { DataTable, NameCell, type Column } from '../../components/data-table.js';
import { EmptyState, ErrorText, LoadState } from '../../components/empty-state.js';
import { messageOf } from '../../components/form.js';
import { usePolled } from '../../hooks/use-polled.js';
import { ImportServers } from '../import/import-servers.js';
import { AddBackend, BackendForm } from './add-backend.js';

const STATE_LABEL: Record<BackendStatus['state'], string> = {
  ready: 'Ready',
  connecting: 'Connecting',
  degraded: 'Degraded',
  down: 'Down',
  disabled: 'Disabled',
};

const COLUMNS: Column<BackendStatus>[] = [
  {
    header: 'Server',
    cell: (b) => (
      <NameCell name={b.name} detail={b.transport ?? b.kind}>
        {b.clientInstances !== undefined && <div className="detail">{instancesText(b.clientInstances)}</div>}
        {b.lastError && <div className="last-error">{b.lastError}</div>}
        {b.lastError && b.lastStderr && <pre className="stderr last-stderr">{b.lastStderr.join('\n')}</pre>}
      </NameCell>
    ),
  },
  { header: 'State', cell: (b) => <Badge tone={b.state}>{STATE_LABEL[b.state]}</Badge> },
  { header: 'Tools', kind: 'numeric', cell: (b) => b.toolCount },
  { header: 'Latency', kind: 'numeric', cell: (b) => (b.latencyMs === undefined ? '–' : `${b.latencyMs} ms`) },
  { header: 'Restarts', kind: 'numeric', cell: (b) => b.restartCount },
];

/**
 * A `per-client` server runs one instance for each client that calls it: the shared one listed
 * here serves the catalog, and how many clients' own instances run now is said under its name.
 */
function instancesText(count: number): string {
  if (count === 0) return 'One instance per client · none running';
  return `One instance per client · ${count} running`;
}

/** Live state of every configured MCP server, refreshed every few seconds. */
export function Servers() {
  const { value: backends, error: loadError, reload } = usePolled(api.backends, 3000);
  const [actionError, setActionError] = useState<string | undefined>();
  const [editing, setEditing] = useState<{ name: string; entry: BackendEntry } | undefined>();
  const [logs, setLogs] = useState<{ name: string; lines: string[] } | undefined>();
  const fail = (e: unknown) => setActionError(messageOf(e));
  const edit = async (name: string) => {
    setLogs(undefined);
    await api.backendConfig(name).then((entry) => setEditing({ name, entry }), fail);
  };
  const showLogs = async (name: string) => {
    if (logs?.name === name) return setLogs(undefined);
    await api.backendStderr(name).then((lines) => setLogs({ name, lines }), fail);
  };
  const act = async (action: () => Promise<unknown>) => {
    setActionError(undefined);
    await action().catch(fail);
    reload();
  };
  // Enabling or disabling rewrites the entry with its secrets kept (the API masks them as { secret: true }).
  const setEnabled = (name: string, enabled: boolean) =>
    act(async () => api.saveBackend(name, { ...(await api.backendConfig(name)), enabled }));

  const actions = (b: BackendStatus) => (
    <>
      <button type="button" className="link" onClick={() => void edit(b.name)}>
        Edit
      </button>
      {b.kind === 'stdio' && (
        <button type="button" className="link" onClick={() => void showLogs(b.name)}>
          Logs
        </button>
      )}
      {b.state === 'disabled' ? (
        <button type="button" className="link" onClick={() => void setEnabled(b.name, true)}>
          Enable
        </button>
      ) : (
        <>
          <button type="button" className="link" onClick={() => void act(() => api.restartBackend(b.name))}>
            Restart
          </button>
          <button
            type="button"
            className="link"
            onClick={() => {
              if (window.confirm(`Disable "${b.name}"? It stops, and its tools disappear until enabled.`)) {
                void setEnabled(b.name, false);
              }
            }}
          >
            Disable
          </button>
        </>
      )}
      <button
        type="button"
        className="link danger"
        onClick={() => {
          // Destructive: ask once.
          if (window.confirm(`Remove "${b.name}" from Cortex? Its tools disappear for every client.`)) {
            void act(() => api.removeBackend(b.name));
          }
        }}
      >
        Remove
      </button>
    </>
  );

  const active = backends?.filter((b) => b.state !== 'disabled');
  return (
    <Card
      title="MCP servers"
      {...(backends && active
        ? { summary: `${active.filter((b) => b.state === 'ready').length} of ${active.length} ready` }
        : {})}
    >
      {actionError && <ErrorText>{actionError}</ErrorText>}
      <LoadState
        value={backends}
        error={loadError}
        what="the servers"
        isEmpty={(list) => list.length === 0}
        empty={
          <>
            No servers yet. Add one below, or put them in <code>cortex.config.json</code> in the data folder (the
            familiar <code>mcpServers</code> format).
          </>
        }
      />
      {backends && backends.length > 0 && (
        <DataTable label="MCP servers" rows={backends} columns={COLUMNS} rowKey={(b) => b.name} actions={actions} />
      )}
      {logs && (
        <div className="panel">
          <div className="card-head">
            <h3>Recent output of {logs.name}</h3>
            <button type="button" className="link" onClick={() => setLogs(undefined)}>
              Close
            </button>
          </div>
          {logs.lines.length === 0 ? (
            <EmptyState>Nothing printed on stderr yet.</EmptyState>
          ) : (
            <pre className="stderr">{logs.lines.join('\n')}</pre>
          )}
        </div>
      )}
      {editing && (
        <BackendForm
          key={editing.name}
          edit={editing}
          onSaved={() => {
            setEditing(undefined);
            reload();
          }}
          onCancel={() => setEditing(undefined)}
        />
      )}
      {backends && !editing && (
        <div className="card-foot">
          <AddBackend onAdded={reload} />
          <ImportServers onImported={reload} />
        </div>
      )}
    </Card>
  );
}
