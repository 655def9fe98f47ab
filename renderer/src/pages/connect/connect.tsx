import { useState } from 'react';
import type { ClientChangeView, ClientConnectionView, TunnelStatus } from '../../../../src/api/contract.js';
import { api } from '../../api.js';
import { Badge, Card, type BadgeTone } from '../../components/card.js';
import { CopyableValue } from '../../components/copy-button.js';
import { DataTable, NameCell, type Column } from '../../components/data-table.js';
import { ErrorText } from '../../components/empty-state.js';
import { messageOf } from '../../components/form.js';
import { usePolled } from '../../hooks/use-polled.js';

function connectionLabel(c: ClientConnectionView): { text: string; badge: BadgeTone } {
  if (c.error) return { text: 'Config unreadable', badge: 'down' };
  if (c.connected) return { text: 'Connected', badge: 'ready' };
  if (c.entryUrl) return { text: 'Points elsewhere', badge: 'degraded' };
  if (!c.installed) return { text: 'Not found', badge: 'disabled' };
  return { text: 'Not connected', badge: 'connecting' };
}

const COLUMNS: Column<ClientConnectionView>[] = [
  { header: 'App', cell: (c) => <NameCell name={c.name} detail={c.error ?? c.configPath} /> },
  {
    header: 'State',
    cell: (c) => {
      const label = connectionLabel(c);
      return <Badge tone={label.badge}>{label.text}</Badge>;
    },
  },
];

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
      (e: unknown) => setOutcome({ ok: false, text: messageOf(e) }),
    );
    setBusy(undefined);
    reload();
  };

  return (
    <Card title="Connect your apps">
      <p>
        Adds Cortex to the app’s own MCP settings, leaving everything else in them as it was (a backup is kept next to
        the file). Restart the app afterwards.
      </p>
      {error && <ErrorText>Could not look for apps: {error}</ErrorText>}
      {outcome && (
        <div className={outcome.ok ? 'outcome ok' : 'outcome failed'} role="status">
          {outcome.text}
          {outcome.detail && <div className="detail">{outcome.detail}</div>}
        </div>
      )}
      {list && (
        <DataTable
          label="Apps to connect"
          headless
          rows={list}
          columns={COLUMNS}
          rowKey={(c) => c.client}
          actions={(c) =>
            c.connected ? (
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
            )
          }
        />
      )}
    </Card>
  );
}

/** The public HTTPS URL claude.ai and Claude Desktop's Connectors need, through a tunnel. */
export function Tunnel() {
  const { value: status, error, reload } = usePolled(api.tunnel, 3000);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const act = async (start: boolean) => {
    if (!start && !window.confirm('Stop the public URL? Connectors using it stop working until you start it again.')) {
      return;
    }
    setBusy(true);
    setFailure(undefined);
    await (start ? api.startTunnel() : api.stopTunnel()).catch((e: unknown) => setFailure(messageOf(e)));
    setBusy(false);
    reload();
  };
  const publicUrl = (s: TunnelStatus | undefined) => (s?.state === 'running' ? s.mcpUrl : undefined);
  const url = publicUrl(status);
  return (
    <Card title="Public URL for claude.ai" {...(status ? { summary: status.provider } : {})}>
      <p>
        claude.ai and Claude Desktop’s Connectors reach servers from the internet over HTTPS. A tunnel gives this
        gateway a public URL; every sign-in through it waits for your approval here. The console is never reachable
        through it.
      </p>
      {error && <ErrorText>{error}</ErrorText>}
      {url ? (
        <>
          <CopyableValue value={url} />
          <button type="button" className="secondary" disabled={busy} onClick={() => void act(false)}>
            Stop public URL
          </button>
        </>
      ) : (
        <>
          {status?.state === 'starting' && <p className="muted-text">Starting the tunnel…</p>}
          {(failure ?? status?.lastError) && <ErrorText>{failure ?? status?.lastError}</ErrorText>}
          <button type="button" disabled={busy || status?.state === 'starting'} onClick={() => void act(true)}>
            {busy ? 'Starting…' : 'Start public URL'}
          </button>
        </>
      )}
    </Card>
  );
}
