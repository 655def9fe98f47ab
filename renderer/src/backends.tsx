import { useEffect, useState } from 'react';
import type { BackendEntry, BackendStatus } from '../../src/api/contract.js';
import { AddBackend, BackendForm } from './add-backend.js';
import { api, SignedOutError } from './api.js';
import { ImportServers } from './import-servers.js';

const STATE_LABEL: Record<BackendStatus['state'], string> = {
  ready: 'Ready',
  connecting: 'Connecting',
  degraded: 'Degraded',
  down: 'Down',
  disabled: 'Disabled',
};

/** Live state of every configured MCP server, refreshed every few seconds. */
export function Backends() {
  const [backends, setBackends] = useState<BackendStatus[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [refresh, setRefresh] = useState(0);
  const [editing, setEditing] = useState<{ name: string; entry: BackendEntry } | undefined>();
  const [logs, setLogs] = useState<{ name: string; lines: string[] } | undefined>();
  const reload = () => setRefresh((n) => n + 1);
  const edit = async (name: string) => {
    setLogs(undefined);
    await api.backendConfig(name).then(
      (entry) => setEditing({ name, entry }),
      (e: unknown) => setError(String(e)),
    );
  };
  const showLogs = async (name: string) => {
    if (logs?.name === name) return setLogs(undefined);
    await api.backendStderr(name).then(
      (lines) => setLogs({ name, lines }),
      (e: unknown) => setError(String(e)),
    );
  };
  // Enabling or disabling rewrites the entry with its secrets kept (the API masks them as { secret: true }).
  const setEnabled = (name: string, enabled: boolean) =>
    act(async () => api.saveBackend(name, { ...(await api.backendConfig(name)), enabled }));
  const act = async (action: () => Promise<unknown>) => {
    await action().catch((e: unknown) => setError(String(e)));
    reload();
  };
  useEffect(() => {
    let alive = true;
    const load = () =>
      api.backends().then(
        (list) => {
          if (!alive) return;
          setBackends(list);
          setError(undefined);
        },
        // Signed out: the console shell says so for every page.
        (e: unknown) => alive && setError(e instanceof SignedOutError ? undefined : String(e)),
      );
    void load();
    const timer = setInterval(() => void load(), 3000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [refresh]);

  return (
    <section className="card">
      <div className="card-head">
        <h2>MCP servers</h2>
        {backends && (
          <span className="summary">
            {backends.filter((b) => b.state === 'ready').length} of{' '}
            {backends.filter((b) => b.state !== 'disabled').length} ready
          </span>
        )}
      </div>
      {error && <p className="error">Could not load the servers: {error}</p>}
      {!backends && !error && <p className="muted-text">Loading…</p>}
      {backends && backends.length === 0 && (
        <p className="muted-text">
          No servers yet. Add one below, or put them in <code>cortex.config.json</code> in the data folder (the familiar{' '}
          <code>mcpServers</code> format).
        </p>
      )}
      {backends && backends.length > 0 && (
        <table className="backends">
          <thead>
            <tr>
              <th>Server</th>
              <th>State</th>
              <th>Tools</th>
              <th>Latency</th>
              <th>Restarts</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {backends.map((b) => (
              <tr key={b.name}>
                <td>
                  <div className="name">{b.name}</div>
                  <div className="kind">{b.transport ?? b.kind}</div>
                  {b.lastError && <div className="last-error">{b.lastError}</div>}
                  {b.lastError && b.lastStderr && <pre className="stderr last-stderr">{b.lastStderr.join('\n')}</pre>}
                </td>
                <td>
                  <span className={`badge badge-${b.state}`}>{STATE_LABEL[b.state]}</span>
                </td>
                <td>{b.toolCount}</td>
                <td>{b.latencyMs === undefined ? '–' : `${b.latencyMs} ms`}</td>
                <td>{b.restartCount}</td>
                <td className="row-actions">
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
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {logs && (
        <div className="logs">
          <div className="card-head">
            <h3>Recent output of {logs.name}</h3>
            <button type="button" className="link" onClick={() => setLogs(undefined)}>
              Close
            </button>
          </div>
          {logs.lines.length === 0 ? (
            <p className="muted-text">Nothing printed on stderr yet.</p>
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
      {backends && !editing && <AddBackend onAdded={reload} />}
      {backends && !editing && <ImportServers onImported={reload} />}
    </section>
  );
}
