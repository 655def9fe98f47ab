import { useEffect, useState } from 'react';
import type { BackendStatus, ClientView } from '../../../../src/api/contract.js';
import { api } from '../../api.js';
import { Badge, Card } from '../../components/card.js';
import { CopyableValue } from '../../components/copy-button.js';
import { usePolled } from '../../hooks/use-polled.js';
import { href } from '../../router.js';
import { Connections, Tunnel } from '../connect/connect.js';

/** The MCP URL to paste into clients, and the health of everything at a glance. */
export function Overview() {
  const mcpUrl = `${window.location.origin}/mcp`;
  const [backends, setBackends] = useState<BackendStatus[] | undefined>();
  const [clients, setClients] = useState<ClientView[] | undefined>();
  const [paused, setPaused] = useState<boolean | undefined>();
  const { value: toolList } = usePolled(api.tools, 30_000);
  useEffect(() => {
    let alive = true;
    const load = () => {
      api.backends().then(
        (b) => alive && setBackends(b),
        () => {},
      );
      api.clients().then(
        (c) => alive && setClients(c),
        () => {},
      );
      api.gateway().then(
        (g) => alive && setPaused(g.paused),
        () => {},
      );
    };
    load();
    const timer = setInterval(load, 3000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, []);
  const togglePause = async () => {
    if (
      !paused &&
      !window.confirm('Pause the gateway? Every client is refused until you resume; servers keep running.')
    ) {
      return;
    }
    await api.setPaused(!paused).then(
      (g) => setPaused(g.paused),
      () => {},
    );
  };
  const active = backends?.filter((b) => b.state !== 'disabled') ?? [];
  const unhealthy = active.filter((b) => b.state === 'down' || b.state === 'degraded');
  const ready = new Set(active.filter((b) => b.state === 'ready').map((b) => b.name));
  // What clients can be granted: tools of ready servers the owner has not turned off. The full
  // tool list is large, so it is polled slowly; the servers' own counts stand in until it arrives.
  const offered = active.reduce((n, b) => n + (b.state === 'ready' ? b.toolCount : 0), 0);
  const toolCount = toolList ? toolList.filter((t) => t.enabled && ready.has(t.backend)).length : offered;
  const turnedOff = toolList ? toolList.filter((t) => !t.enabled && ready.has(t.backend)).length : 0;
  const connected = clients?.filter((c) => c.activeGrants > 0) ?? [];
  return (
    <>
      <Card
        title="Your MCP endpoint"
        {...(paused !== undefined
          ? {
              summary: (
                <span className="gateway-state">
                  <Badge tone={paused ? 'degraded' : 'ready'}>{paused ? 'Paused' : 'Serving'}</Badge>
                  <button type="button" className="link" onClick={() => void togglePause()}>
                    {paused ? 'Resume' : 'Pause'}
                  </button>
                </span>
              ),
            }
          : {})}
      >
        <p>Point any client that speaks Streamable HTTP at this address; it signs in through a consent page.</p>
        <CopyableValue value={mcpUrl} />
      </Card>
      <div className="stats">
        <a className="card stat" href={href('servers')}>
          <span className="stat-label">Servers</span>
          <span className="stat-value">
            {backends ? `${active.filter((b) => b.state === 'ready').length} / ${active.length}` : '…'}
          </span>
          <span className={unhealthy.length > 0 ? 'stat-note warn' : 'stat-note'}>
            {backends === undefined
              ? 'loading'
              : active.length === 0
                ? 'none yet: add your first'
                : unhealthy.length > 0
                  ? `${unhealthy.map((b) => b.name).join(', ')} need attention`
                  : 'all ready'}
          </span>
        </a>
        <a className="card stat" href={href('tools')}>
          <span className="stat-label">Tools</span>
          <span className="stat-value">{backends ? toolCount : '…'}</span>
          <span className="stat-note">from ready servers{turnedOff > 0 ? `, ${turnedOff} turned off` : ''}</span>
        </a>
        <a className="card stat" href={href('access')}>
          <span className="stat-label">Applications</span>
          <span className="stat-value">{clients ? connected.length : '…'}</span>
          <span className="stat-note">
            {connected.length === 0
              ? 'none signed in yet'
              : connected.map((c) => c.clientName ?? c.clientId).join(', ')}
          </span>
        </a>
      </div>
      <Connections />
      <Tunnel />
    </>
  );
}
