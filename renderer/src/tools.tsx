import { useMemo, useState } from 'react';
import type { ToolView } from '../../src/api/contract.js';
import { api } from './api.js';
import { href } from './router.js';
import { usePolled } from './use-polled.js';

const SOURCE_HINT: Record<ToolView['accessSource'], string> = {
  annotation: 'as the server declares',
  default: 'no read-only hint',
  override: 'set by you',
};

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

  const change = async (tool: ToolView, update: Parameters<typeof api.setTool>[2]) => {
    setBusy(`${tool.backend}/${tool.original}`);
    await api.setTool(tool.backend, tool.original, update).then(
      (list) => (setTools(list), setError(undefined)),
      (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
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
      <section className="card">
        <h2>No tools yet</h2>
        <p>
          Tools appear here once a server is ready. <a href={href('servers')}>Add a server</a> or check why one is not
          ready.
        </p>
      </section>
    );
  }
  return (
    <>
      <section className="card">
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
        {error && <p className="error">{error}</p>}
        {!tools && !error && <p className="muted-text">Loading…</p>}
      </section>
      {groups.map(([backend, list]) => {
        const enabled = list.filter((t) => t.enabled);
        const reads = enabled.filter((t) => t.access === 'read').length;
        return (
          <section className="card" key={backend}>
            <div className="card-head">
              <h2>{backend}</h2>
              <span className="summary">
                {enabled.length} of {list.length} on · read grants {reads}, write grants {enabled.length}
              </span>
            </div>
            <table className="backends tools">
              <thead>
                <tr>
                  <th>Tool</th>
                  <th>Access</th>
                  <th>Scope</th>
                  <th>On</th>
                </tr>
              </thead>
              <tbody>
                {list.map((t) => {
                  const id = `${t.backend}/${t.original}`;
                  return (
                    <tr key={id} className={t.enabled ? undefined : 'off'}>
                      <td>
                        <div className="name">{t.title ?? t.original}</div>
                        <div className="kind">{t.name ?? `${t.original} (off: not listed)`}</div>
                        {t.description && <div className="description">{t.description}</div>}
                      </td>
                      <td>
                        <select
                          aria-label={`Access of ${t.original}`}
                          value={t.accessSource === 'override' ? t.access : 'auto'}
                          disabled={busy === id}
                          onChange={(e) =>
                            void change(t, {
                              access: e.target.value === 'auto' ? null : (e.target.value as 'read' | 'write'),
                            })
                          }
                        >
                          <option value="auto">Automatic</option>
                          <option value="read">Read</option>
                          <option value="write">Write</option>
                        </select>
                        <div className="kind">
                          {t.access} · {SOURCE_HINT[t.accessSource]}
                        </div>
                      </td>
                      <td>
                        <span className="scope">{t.scope}</span>
                      </td>
                      <td>
                        <label className="switch">
                          <input
                            type="checkbox"
                            role="switch"
                            aria-label={`Enable ${t.original}`}
                            checked={t.enabled}
                            disabled={busy === id}
                            onChange={(e) => void change(t, { enabled: e.target.checked })}
                          />
                          <span aria-hidden="true" />
                        </label>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
        );
      })}
    </>
  );
}
