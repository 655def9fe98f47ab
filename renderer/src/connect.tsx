import { useState } from 'react';
import type { ClientChangeView, ClientConnectionView, TunnelStatus } from '../../src/api/contract.js';
import { api } from './api.js';
import { usePolled } from './use-polled.js';

function connectionLabel(c: ClientConnectionView): { text: string; badge: string } {
  if (c.error) return { text: 'Config unreadable', badge: 'down' };
  if (c.connected) return { text: 'Connected', badge: 'ready' };
  if (c.entryUrl) return { text: 'Points elsewhere', badge: 'degraded' };
  if (!c.installed) return { text: 'Not found', badge: 'disabled' };
  return { text: 'Not connected', badge: 'connecting' };
}

/** One click per app: the gateway's entry is merged into that app's own config, with a backup. */
export function Connections() {
  const { value: list, error, reload } = usePolled(api.connections, 10_000);
  const [busy, setBusy] = useState<string | undefined>();
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string; detail?: string } | undefined>();

  const run = async (client: ClientConnectionView, action: 'connect' | 'disconnect') => {
    if (
      action === 'disconnect' &&
      !window.confirm(`Remove Cortex from ${client.name}? Only its Cortex entry is removed; a backup is kept.`)
    ) {
      return;
    }
    setBusy(client.client);
    await (action === 'connect' ? api.connect(client.client) : api.disconnect(client.client)).then(
      (change: ClientChangeView) =>
        setOutcome({
          ok: true,
          text: [change.message, ...change.warnings].join(' '),
          ...(change.backupPath ? { detail: `Backup of the previous file: ${change.backupPath}` } : {}),
        }),
      (e: unknown) => setOutcome({ ok: false, text: e instanceof Error ? e.message : String(e) }),
    );
    setBusy(undefined);
    reload();
  };

  return (
    <section className="card">
      <div className="card-head">
        <h2>Connect your apps</h2>
      </div>
      <p>
        Adds Cortex to the app’s own MCP settings, leaving everything else in them as it was (a backup is kept next to
        the file). Restart the app afterwards.
      </p>
      {error && <p className="error">Could not look for apps: {error}</p>}
      {outcome && (
        <div className={outcome.ok ? 'test-result ok' : 'test-result failed'} role="status">
          {outcome.text}
          {outcome.detail && <div className="kind">{outcome.detail}</div>}
        </div>
      )}
      {list && (
        <table className="backends connections">
          <tbody>
            {list.map((c) => {
              const label = connectionLabel(c);
              return (
                <tr key={c.client}>
                  <td>
                    <div className="name">{c.name}</div>
                    <div className="kind">{c.error ?? c.configPath}</div>
                  </td>
                  <td>
                    <span className={`badge badge-${label.badge}`}>{label.text}</span>
                  </td>
                  <td className="row-actions">
                    {c.connected ? (
                      <button
                        type="button"
                        className="link danger"
                        disabled={busy !== undefined}
                        onClick={() => void run(c, 'disconnect')}
                      >
                        Disconnect
                      </button>
                    ) : (
                      <button
                        type="button"
                        className="link"
                        disabled={busy !== undefined || Boolean(c.error)}
                        onClick={() => void run(c, 'connect')}
                        aria-label={`Connect to ${c.name}`}
                      >
                        {busy === c.client ? 'Connecting…' : 'Connect'}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The public HTTPS URL claude.ai and Claude Desktop's Connectors need, through a tunnel. */
export function Tunnel() {
  const { value: status, error, reload } = usePolled(api.tunnel, 3000);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const [copied, setCopied] = useState(false);
  const act = async (start: boolean) => {
    if (!start && !window.confirm('Stop the public URL? Connectors using it stop working until you start it again.')) {
      return;
    }
    setBusy(true);
    setFailure(undefined);
    await (start ? api.startTunnel() : api.stopTunnel()).catch((e: unknown) =>
      setFailure(e instanceof Error ? e.message : String(e)),
    );
    setBusy(false);
    reload();
  };
  const running = (s: TunnelStatus | undefined) => s?.state === 'running' && s.mcpUrl;
  return (
    <section className="card">
      <div className="card-head">
        <h2>Public URL for claude.ai</h2>
        {status && <span className="summary">{status.provider}</span>}
      </div>
      <p>
        claude.ai and Claude Desktop’s Connectors reach servers from the internet over HTTPS. A tunnel gives this
        gateway a public URL; every sign-in through it waits for your approval here. The console is never reachable
        through it.
      </p>
      {error && <p className="error">{error}</p>}
      {running(status) ? (
        <>
          <div className="url-row">
            <code>{status!.mcpUrl}</code>
            <button
              type="button"
              onClick={() =>
                void navigator.clipboard.writeText(status!.mcpUrl!).then(
                  () => (setCopied(true), setTimeout(() => setCopied(false), 1500)),
                  () => {},
                )
              }
            >
              {copied ? 'Copied' : 'Copy'}
            </button>
          </div>
          <button type="button" className="secondary" disabled={busy} onClick={() => void act(false)}>
            Stop public URL
          </button>
        </>
      ) : (
        <>
          {status?.state === 'starting' && <p className="muted-text">Starting the tunnel…</p>}
          {(failure ?? status?.lastError) && <p className="error">{failure ?? status?.lastError}</p>}
          <button type="button" disabled={busy || status?.state === 'starting'} onClick={() => void act(true)}>
            {busy ? 'Starting…' : 'Start public URL'}
          </button>
        </>
      )}
    </section>
  );
}
