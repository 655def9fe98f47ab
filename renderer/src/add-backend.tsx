import { useState, type FormEvent, type ReactNode } from 'react';
import type { SecretValue } from '../../src/api/contract.js';
import { api, ApiError } from './api.js';

type Kind = 'stdio' | 'http';

/** One environment variable or header; a secret goes to the encrypted store, never into the config file. */
interface Pair {
  key: string;
  value: string;
  secret: boolean;
  /** Once the owner flips the toggle, the name no longer decides it. */
  touched: boolean;
}

// Names that usually hold credentials start out marked secret; the owner can still untick them.
const SECRET_NAME = /(token|secret|password|passwd|api[-_]?key|auth|credential|private)/i;

/** The rows as the API takes them: `{ secret: value }` for secrets; rows without a name are skipped. */
function toValues(pairs: Pair[], what: string): Record<string, SecretValue> | string {
  const out: Record<string, SecretValue> = {};
  for (const pair of pairs) {
    const key = pair.key.trim();
    if (!key) continue;
    if (key in out) return `${what} "${key}" appears twice.`;
    if (pair.secret && !pair.value) return `Enter the secret value of ${key}, or untick “secret”.`;
    out[key] = pair.secret ? { secret: pair.value } : pair.value;
  }
  return out;
}

/** Name/value rows with a “secret” toggle each: environment variables, or a remote server's headers. */
function PairsField(props: {
  label: string;
  noun: string;
  pairs: Pair[];
  onChange: (pairs: Pair[]) => void;
  error: ReactNode;
}) {
  const { label, noun, pairs, onChange } = props;
  const update = (index: number, change: Partial<Pair>) =>
    onChange(pairs.map((pair, i) => (i === index ? { ...pair, ...change } : pair)));
  return (
    <fieldset className="field pairs">
      <legend>
        {label} <span className="hint">secrets are stored encrypted and never shown again</span>
      </legend>
      {pairs.map((pair, i) => (
        <div className="pair" key={i}>
          <input
            value={pair.key}
            placeholder="NAME"
            aria-label={`${noun} name ${i + 1}`}
            onChange={(e) =>
              update(i, {
                key: e.target.value,
                ...(pair.touched ? {} : { secret: SECRET_NAME.test(e.target.value) }),
              })
            }
          />
          <input
            value={pair.value}
            type={pair.secret ? 'password' : 'text'}
            autoComplete="off"
            placeholder="value"
            aria-label={`${noun} value ${i + 1}`}
            onChange={(e) => update(i, { value: e.target.value })}
          />
          <label className="secret-toggle">
            <input
              type="checkbox"
              checked={pair.secret}
              aria-label={`${noun} ${i + 1} is secret`}
              onChange={(e) => update(i, { secret: e.target.checked, touched: true })}
            />{' '}
            secret
          </label>
          <button
            type="button"
            className="link danger"
            aria-label={`Remove ${noun.toLowerCase()} ${i + 1}`}
            onClick={() => onChange(pairs.filter((_, j) => j !== i))}
          >
            ✕
          </button>
        </div>
      ))}
      <button
        type="button"
        className="link"
        onClick={() => onChange([...pairs, { key: '', value: '', secret: false, touched: false }])}
      >
        + Add {noun.toLowerCase()}
      </button>
      {props.error}
    </fieldset>
  );
}

/** Adds an MCP server: a command the gateway runs, or a remote URL. Errors appear next to their field. */
export function AddBackend({ onAdded }: { onAdded: () => void }) {
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<Kind>('stdio');
  const [name, setName] = useState('');
  const [command, setCommand] = useState('');
  const [args, setArgs] = useState('');
  const [env, setEnv] = useState<Pair[]>([]);
  const [url, setUrl] = useState('');
  const [headers, setHeaders] = useState<Pair[]>([]);
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
    const envValues = toValues(env, 'Variable');
    const headerValues = toValues(headers, 'Header');
    if (kind === 'stdio' && typeof envValues === 'string') local.env = envValues;
    if (kind === 'http' && typeof headerValues === 'string') local.headers = headerValues;
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
            env: envValues,
          }
        : { type: 'http', url: url.trim(), headers: headerValues };
    setBusy(true);
    try {
      await api.saveBackend(name.trim(), config);
      setOpen(false);
      setName('');
      setCommand('');
      setArgs('');
      setEnv([]);
      setUrl('');
      setHeaders([]);
      onAdded();
    } catch (error) {
      // The API names the JSON path at fault (mcpServers.<name>.<field>): show it by that field.
      const field =
        error instanceof ApiError && error.field ? error.field.split('.').slice(2).join('.') || 'name' : 'form';
      const message = error instanceof Error ? error.message.replace(/^.*?: mcpServers\.[^:]+: /, '') : String(error);
      setErrors({ [field.split(/[.[]/)[0]!]: message });
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
          <PairsField label="Environment" noun="Variable" pairs={env} onChange={setEnv} error={fieldError('env')} />
        </>
      ) : (
        <>
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
          <PairsField
            label="Headers"
            noun="Header"
            pairs={headers}
            onChange={setHeaders}
            error={fieldError('headers')}
          />
        </>
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
