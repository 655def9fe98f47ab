import { useState, type FormEvent } from 'react';
import { api, ApiError } from './api.js';

type Kind = 'stdio' | 'http';

/** Lines of KEY=VALUE into an object; blank lines skipped. */
function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const eq = trimmed.indexOf('=');
    env[eq === -1 ? trimmed : trimmed.slice(0, eq)] = eq === -1 ? '' : trimmed.slice(eq + 1);
  }
  return env;
}

/** Adds an MCP server: a command the gateway runs, or a remote URL. Errors appear next to their field. */
export function AddBackend({ onAdded }: { onAdded: () => void }) {
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<Kind>('stdio');
  const [name, setName] = useState('');
  const [command, setCommand] = useState('');
  const [args, setArgs] = useState('');
  const [env, setEnv] = useState('');
  const [url, setUrl] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  if (!open) {
    return (
      <button type="button" className="secondary" onClick={() => setOpen(true)}>
        Add server
      </button>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const local: Record<string, string> = {};
    if (!name.trim()) local.name = 'Give the server a name.';
    if (kind === 'stdio' && !command.trim()) local.command = 'Which command starts the server?';
    if (kind === 'http' && !url.trim()) local.url = 'The server’s URL is needed.';
    setErrors(local);
    if (Object.keys(local).length) return;
    const config =
      kind === 'stdio'
        ? {
            command: command.trim(),
            args: args
              .split('\n')
              .map((a) => a.trim())
              .filter(Boolean),
            env: parseEnv(env),
          }
        : { type: 'http', url: url.trim() };
    setBusy(true);
    try {
      await api.saveBackend(name.trim(), config);
      setOpen(false);
      setName('');
      setCommand('');
      setArgs('');
      setEnv('');
      setUrl('');
      onAdded();
    } catch (error) {
      // The API names the JSON path at fault (mcpServers.<name>.<field>): show it by that field.
      const field =
        error instanceof ApiError && error.field ? error.field.split('.').slice(2).join('.') || 'name' : 'form';
      const message = error instanceof Error ? error.message.replace(/^.*?: mcpServers\.[^:]+: /, '') : String(error);
      setErrors({ [field.split('[')[0]!]: message });
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (field: string) => errors[field] && <span className="field-error">{errors[field]}</span>;
  return (
    <form className="add-backend" onSubmit={(e) => void submit(e)} noValidate>
      <h3>Add an MCP server</h3>
      <div className="kind-switch" role="radiogroup" aria-label="Kind of server">
        <label>
          <input type="radio" checked={kind === 'stdio'} onChange={() => setKind('stdio')} /> Command on this computer
        </label>
        <label>
          <input type="radio" checked={kind === 'http'} onChange={() => setKind('http')} /> Remote URL
        </label>
      </div>
      <label className="field">
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="github" aria-label="Name" />
        {fieldError('name')}
      </label>
      {kind === 'stdio' ? (
        <>
          <label className="field">
            Command
            <input
              value={command}
              onChange={(e) => setCommand(e.target.value)}
              placeholder="npx"
              aria-label="Command"
            />
            {fieldError('command')}
          </label>
          <label className="field">
            Arguments <span className="hint">one per line</span>
            <textarea value={args} onChange={(e) => setArgs(e.target.value)} rows={3} aria-label="Arguments" />
            {fieldError('args')}
          </label>
          <label className="field">
            Environment <span className="hint">KEY=value, one per line</span>
            <textarea value={env} onChange={(e) => setEnv(e.target.value)} rows={2} aria-label="Environment" />
            {fieldError('env')}
          </label>
        </>
      ) : (
        <label className="field">
          URL
          <input
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            placeholder="https://example.com/mcp"
            aria-label="URL"
          />
          {fieldError('url')}
        </label>
      )}
      {fieldError('form')}
      <div className="actions">
        <button type="button" className="secondary" onClick={() => setOpen(false)}>
          Cancel
        </button>
        <button type="submit" disabled={busy}>
          {busy ? 'Adding…' : 'Add server'}
        </button>
      </div>
    </form>
  );
}
