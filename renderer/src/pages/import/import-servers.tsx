import { useState } from 'react';
import type {
  ClientConnectionView,
  ImportCandidateView,
  ImportPreview,
  ImportResult,
} from '../../../../src/api/contract.js';
import { api } from '../../api.js';
import { EmptyState } from '../../components/empty-state.js';
import { Actions, Field, FieldError, messageOf } from '../../components/form.js';

const KIND_LABEL: Record<ImportCandidateView['kind'], string> = { stdio: 'command', http: 'URL', sse: 'URL (SSE)' };

/** What one server would become: shown next to its checkbox. */
function candidateNote(server: ImportCandidateView): string {
  if (server.status === 'blocked') return `Can’t import: ${server.problem ?? 'unknown shape'}`;
  if (server.status === 'present') return 'Already in Cortex';
  const notes = [];
  if (server.backend !== server.name) notes.push(`added as “${server.backend}”`);
  if (server.secrets.length) notes.push(`kept encrypted: ${server.secrets.join(', ')}`);
  return notes.join(' · ');
}

/**
 * Brings the servers another app (Claude Desktop, Cursor…) already has into Cortex: pick the app,
 * tick the servers, optionally switch the app over to Cortex (its config is backed up first).
 */
export function ImportServers({ onImported }: { onImported: () => void }) {
  const [apps, setApps] = useState<ClientConnectionView[] | undefined>();
  const [preview, setPreview] = useState<ImportPreview | undefined>();
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [replace, setReplace] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [result, setResult] = useState<ImportResult | undefined>();

  const start = async () => {
    setError(undefined);
    setResult(undefined);
    await api.connections().then(
      (list) => setApps(list.filter((app) => app.configExists)),
      (e: unknown) => setError(messageOf(e)),
    );
  };
  const close = () => {
    setApps(undefined);
    setPreview(undefined);
    setError(undefined);
  };
  const pick = async (client: string) => {
    setPreview(undefined);
    setError(undefined);
    if (!client) return;
    await api.importPreview(client).then(
      (p) => {
        setPreview(p);
        setChosen(new Set(p.servers.filter((s) => s.status === 'new').map((s) => s.name)));
      },
      (e: unknown) => setError(messageOf(e)),
    );
  };
  const toggle = (name: string, on: boolean) =>
    setChosen((current) => {
      const next = new Set(current);
      if (on) next.add(name);
      else next.delete(name);
      return next;
    });
  const submit = async () => {
    if (!preview) return;
    setBusy(true);
    setError(undefined);
    try {
      const done = await api.importServers(preview.client, { servers: [...chosen], replace });
      setResult(done);
      close();
      onImported();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  if (!apps) {
    return (
      <div className="import-servers">
        <button type="button" className="secondary" onClick={() => void start()}>
          Import from an app…
        </button>
        <FieldError>{error}</FieldError>
        {result && <ImportSummary result={result} />}
      </div>
    );
  }
  const appName = apps.find((a) => a.client === preview?.client)?.name ?? 'the app';
  return (
    <div className="panel import-servers" role="group" aria-labelledby="import-title">
      <h3 id="import-title">Import servers from another app</h3>
      {apps.length === 0 ? (
        <EmptyState>
          None of the apps Cortex knows (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Gemini CLI) has an MCP
          config on this computer.
        </EmptyState>
      ) : (
        <Field label="From">
          <select aria-label="Import from" defaultValue="" onChange={(e) => void pick(e.target.value)}>
            <option value="" disabled>
              Choose an app
            </option>
            {apps.map((app) => (
              <option key={app.client} value={app.client}>
                {app.name}
              </option>
            ))}
          </select>
        </Field>
      )}
      {preview && preview.servers.length === 0 && (
        <EmptyState>{appName} has no servers besides Cortex itself.</EmptyState>
      )}
      {preview && preview.servers.length > 0 && (
        <>
          <ul className="candidates">
            {preview.servers.map((server) => (
              <li key={server.name} className={server.status === 'blocked' ? 'blocked' : undefined}>
                <label>
                  <input
                    type="checkbox"
                    aria-label={`Import ${server.name}`}
                    disabled={server.status === 'blocked'}
                    checked={chosen.has(server.name)}
                    onChange={(e) => toggle(server.name, e.target.checked)}
                  />
                  <span className="name">{server.name}</span>
                  {server.status !== 'blocked' && <span className="detail">{KIND_LABEL[server.kind]}</span>}
                </label>
                <code className="target">{server.target}</code>
                {candidateNote(server) && <span className="note">{candidateNote(server)}</span>}
                {server.warnings.map((w) => (
                  <span key={w} className="hint">
                    {w}
                  </span>
                ))}
              </li>
            ))}
          </ul>
          <label className="replace">
            <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} /> Also switch{' '}
            {appName} to Cortex: remove these servers from its config and add Cortex instead (a backup of the file is
            kept)
          </label>
        </>
      )}
      <FieldError>{error}</FieldError>
      <Actions>
        <button type="button" className="secondary" onClick={close}>
          Cancel
        </button>
        <button type="button" disabled={!preview || chosen.size === 0 || busy} onClick={() => void submit()}>
          {busy ? 'Importing…' : `Import ${chosen.size || ''} server${chosen.size === 1 ? '' : 's'}`}
        </button>
      </Actions>
    </div>
  );
}

function ImportSummary({ result }: { result: ImportResult }) {
  return (
    <div className="import-summary" role="status">
      <p>
        {result.imported.length
          ? `Imported ${result.imported.map((s) => s.backend).join(', ')}.`
          : 'Nothing new was imported.'}
        {result.skipped.map((s) => ` ${s.name}: ${s.reason}.`).join('')}
      </p>
      {/* The message names the backup and how to undo the switch. */}
      {result.replaced && <p>{result.replaced.message}</p>}
    </div>
  );
}
