import { useMemo, useState } from 'react';
import type { ToolView } from '../../../../src/api/contract.js';
import { api } from '../../api.js';
import { Card } from '../../components/card.js';
import { DataTable, NameCell, type Column } from '../../components/data-table.js';
import { EmptyState, ErrorText } from '../../components/empty-state.js';
import { messageOf } from '../../components/form.js';
import { usePolled } from '../../hooks/use-polled.js';
import { href } from '../../router.js';

const SOURCE_HINT: Record<ToolView['accessSource'], string> = {
  annotation: 'as the server declares',
  default: 'no read-only hint',
  override: 'set by you',
};

type Change = Parameters<typeof api.setTool>[2];

function columns(busy: string | undefined, change: (tool: ToolView, update: Change) => void): Column<ToolView>[] {
  const idOf = (t: ToolView) => `${t.backend}/${t.original}`;
  return [
    {
      header: 'Tool',
      cell: (t) => (
        <NameCell name={t.title ?? t.original} detail={t.name ?? `${t.original} (off: not listed)`}>
          {t.description && <div className="description">{t.description}</div>}
        </NameCell>
      ),
    },
    {
      header: 'Access',
      cell: (t) => (
        <>
          <select
            aria-label={`Access of ${t.original}`}
            value={t.accessSource === 'override' ? t.access : 'auto'}
            disabled={busy === idOf(t)}
            onChange={(e) =>
              change(t, { access: e.target.value === 'auto' ? null : (e.target.value as 'read' | 'write') })
            }
          >
            <option value="auto">Automatic</option>
            <option value="read">Read</option>
            <option value="write">Write</option>
          </select>
          <div className="detail">
            {t.access} · {SOURCE_HINT[t.accessSource]}
          </div>
        </>
      ),
    },
    { header: 'Scope', cell: (t) => <span className="scope">{t.scope}</span> },
    {
      header: 'On',
      cell: (t) => (
        <label className="switch">
          <input
            type="checkbox"
            role="switch"
            aria-label={`Enable ${t.original}`}
            checked={t.enabled}
            disabled={busy === idOf(t)}
            onChange={(e) => change(t, { enabled: e.target.checked })}
          />
          <span aria-hidden="true" />
        </label>
      ),
    },
  ];
}

/**
 * Every federated tool with its read/write class and the scope it needs; the owner turns tools off
 * (they vanish for every client) or reclassifies them (which changes the scope that grants them).
 */
export function Tools() {
  const { value: tools, error: loadError, setValue: setTools } = usePolled(api.tools, 5000);
  const [changeError, setError] = useState<string | undefined>();
  const error = changeError ?? loadError;
  const [filter, setFilter] = useState('');
  const [busy, setBusy] = useState<string | undefined>();

  const change = async (tool: ToolView, update: Change) => {
    setBusy(`${tool.backend}/${tool.original}`);
    await api.setTool(tool.backend, tool.original, update).then(
      (list) => (setTools(list), setError(undefined)),
      (e: unknown) => setError(messageOf(e)),
    );
    setBusy(undefined);
  };

  const groups = useMemo(() => {
    const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = (tools ?? []).filter((t) => {
      const text = `${t.backend} ${t.original} ${t.title ?? ''} ${t.description ?? ''}`.toLowerCase();
      return words.every((w) => text.includes(w));
    });
    const byBackend = new Map<string, ToolView[]>();
    for (const tool of shown) byBackend.set(tool.backend, [...(byBackend.get(tool.backend) ?? []), tool]);
    return [...byBackend];
  }, [tools, filter]);

  if (tools && tools.length === 0) {
    return (
      <Card title="No tools yet">
        <EmptyState>
          Tools appear here once a server is ready. <a href={href('servers')}>Add a server</a> or check why one is not
          ready.
        </EmptyState>
      </Card>
    );
  }
  const cols = columns(busy, (t, update) => void change(t, update));
  return (
    <>
      <Card>
        <p>
          Clients see a tool only if their grant includes its scope: <code className="scope">…:read</code> covers
          read-only tools, <code className="scope">…:write</code> every tool of that server. Turning a tool off hides it
          from every client at once; nothing restarts.
        </p>
        <input
          className="search"
          type="search"
          placeholder="Filter tools by name, server or description"
          aria-label="Filter tools"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        {error && <ErrorText>{error}</ErrorText>}
        {!tools && !error && <p className="muted-text">Loading…</p>}
        {tools && groups.length === 0 && <EmptyState>No tools match “{filter}”.</EmptyState>}
      </Card>
      {groups.map(([backend, list]) => {
        const enabled = list.filter((t) => t.enabled);
        const reads = enabled.filter((t) => t.access === 'read').length;
        return (
          <Card
            key={backend}
            title={backend}
            summary={`${enabled.length} of ${list.length} on · read grants ${reads}, write grants ${enabled.length}`}
          >
            <DataTable
              label={`Tools of ${backend}`}
              className="tools"
              rows={list}
              columns={cols}
              rowKey={(t) => `${t.backend}/${t.original}`}
              rowClass={(t) => (t.enabled ? undefined : 'off')}
            />
          </Card>
        );
      })}
    </>
  );
}
