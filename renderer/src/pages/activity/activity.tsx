import { useEffect, useMemo, useState } from 'react';
import type { ActivityEntry } from '../../../../src/api/contract.js';
import { api } from '../../api.js';
import { Badge, Card, type BadgeTone } from '../../components/card.js';
import { DataTable, NameCell, type Column } from '../../components/data-table.js';
import { EmptyState, ErrorText } from '../../components/empty-state.js';
import { messageOf } from '../../components/form.js';

const OUTCOME_LABEL: Record<ActivityEntry['outcome'], string> = { ok: 'OK', error: 'Error', refused: 'Refused' };
const OUTCOME_BADGE: Record<ActivityEntry['outcome'], BadgeTone> = { ok: 'ready', error: 'down', refused: 'degraded' };
/** Entries kept on the page; the gateway keeps its own, larger window. */
const KEEP = 500;

function time(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function args(entry: ActivityEntry): string {
  if (entry.arguments !== undefined) return JSON.stringify(entry.arguments);
  return entry.argumentKeys.length === 0 ? '–' : entry.argumentKeys.join(', ');
}

const COLUMNS: Column<ActivityEntry>[] = [
  { header: 'Time', kind: 'muted', cell: (e) => time(e.at) },
  { header: 'Client', cell: (e) => e.clientName ?? e.clientId },
  { header: 'Tool', cell: (e) => <NameCell name={e.tool} {...(e.backend ? { detail: e.backend } : {})} /> },
  { header: 'Arguments', kind: 'code', cell: args },
  { header: 'Duration', kind: 'numeric', cell: (e) => (e.durationMs < 1 ? '<1 ms' : `${Math.round(e.durationMs)} ms`) },
  {
    header: 'Outcome',
    cell: (e) => (
      <>
        <Badge tone={OUTCOME_BADGE[e.outcome]}>{OUTCOME_LABEL[e.outcome]}</Badge>
        {e.error && <div className="last-error">{e.error}</div>}
      </>
    ),
  },
];

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
        (e: unknown) => alive && setError(messageOf(e)),
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
    <Card title="Tool calls" summary={<span className="live">Live</span>}>
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
      {error && <ErrorText>Could not load the activity: {error}</ErrorText>}
      {!entries && !error && <p className="muted-text">Loading…</p>}
      {entries && entries.length === 0 && (
        <EmptyState>No tool calls yet. They appear here as soon as a connected client calls a tool.</EmptyState>
      )}
      {entries && entries.length > 0 && shown.length === 0 && <EmptyState>No calls match these filters.</EmptyState>}
      {shown.length > 0 && (
        <DataTable label="Tool calls" className="activity" rows={shown} columns={COLUMNS} rowKey={(e) => e.id} />
      )}
    </Card>
  );
}
