import { useEffect, useMemo, useState } from 'react';
import type { ActivityEntry } from '../../src/api/contract.js';
import { api } from './api.js';

const OUTCOME_LABEL: Record<ActivityEntry['outcome'], string> = { ok: 'OK', error: 'Error', refused: 'Refused' };
const OUTCOME_BADGE: Record<ActivityEntry['outcome'], string> = { ok: 'ready', error: 'down', refused: 'degraded' };
/** Entries kept on the page; the gateway keeps its own, larger window. */
const KEEP = 500;

function time(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function args(entry: ActivityEntry): string {
  if (entry.arguments !== undefined) return JSON.stringify(entry.arguments);
  return entry.argumentKeys.length === 0 ? '–' : entry.argumentKeys.join(', ');
}

/** Tool calls as they happen: who called what, how long it took, and how it ended. */
export function Activity() {
  const [entries, setEntries] = useState<ActivityEntry[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [client, setClient] = useState('');
  const [tool, setTool] = useState('');
  const [outcome, setOutcome] = useState('');
  useEffect(() => {
    let alive = true;
    let last = 0;
    // Polls for entries newer than the last one seen. Ids start at the gateway's clock, so they keep
    // increasing when it restarts.
    const load = () =>
      api.activity(last).then(
        (fresh) => {
          if (!alive) return;
          setError(undefined);
          if (fresh.length > 0) last = fresh[0]!.id;
          setEntries((old) => [...fresh, ...(old ?? [])].slice(0, KEEP));
        },
        (e: unknown) => alive && setError(String(e)),
      );
    void load();
    const timer = setInterval(() => void load(), 2000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, []);

  const clients = useMemo(
    () => [...new Map((entries ?? []).map((e) => [e.clientId, e.clientName ?? e.clientId])).entries()],
    [entries],
  );
  const shown = (entries ?? []).filter(
    (e) =>
      (!client || e.clientId === client) &&
      (!outcome || e.outcome === outcome) &&
      (!tool || e.tool.toLowerCase().includes(tool.toLowerCase())),
  );

  return (
    <section className="card">
      <div className="card-head">
        <h2>Tool calls</h2>
        <span className="summary live">Live</span>
      </div>
      <p>
        Every tool call through the gateway, newest first. Argument values are not recorded unless you set{' '}
        <code>gateway.activityArguments</code>; the list lives in memory and starts empty when the gateway restarts.
      </p>
      <div className="filters">
        <select aria-label="Client" value={client} onChange={(e) => setClient(e.target.value)}>
          <option value="">All clients</option>
          {clients.map(([id, name]) => (
            <option key={id} value={id}>
              {name}
            </option>
          ))}
        </select>
        <input
          className="search"
          type="search"
          aria-label="Tool"
          placeholder="Tool name"
          value={tool}
          onChange={(e) => setTool(e.target.value)}
        />
        <select aria-label="Outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
          <option value="">Any outcome</option>
          <option value="ok">OK</option>
          <option value="error">Error</option>
          <option value="refused">Refused</option>
        </select>
      </div>
      {error && <p className="error">Could not load the activity: {error}</p>}
      {entries && entries.length === 0 && (
        <p className="muted-text">No tool calls yet. They appear here as soon as a connected client calls a tool.</p>
      )}
      {entries && entries.length > 0 && shown.length === 0 && (
        <p className="muted-text">No calls match these filters.</p>
      )}
      {shown.length > 0 && (
        <table className="backends activity">
          <thead>
            <tr>
              <th>Time</th>
              <th>Client</th>
              <th>Tool</th>
              <th>Arguments</th>
              <th>Duration</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr key={e.id}>
                <td className="muted-text">{time(e.at)}</td>
                <td>{e.clientName ?? e.clientId}</td>
                <td>
                  <div className="name">{e.tool}</div>
                  {e.backend && <div className="kind">{e.backend}</div>}
                </td>
                <td className="args">{args(e)}</td>
                <td>{e.durationMs < 1 ? '<1 ms' : `${Math.round(e.durationMs)} ms`}</td>
                <td>
                  <span className={`badge badge-${OUTCOME_BADGE[e.outcome]}`}>{OUTCOME_LABEL[e.outcome]}</span>
                  {e.error && <div className="last-error">{e.error}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
