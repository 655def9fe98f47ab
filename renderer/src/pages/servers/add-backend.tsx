import { useState, type ReactNode } from 'react';
import type { BackendEntry, BackendTestResult, SecretValue } from '../../../../src/api/contract.js';
import { api } from '../../api.js';
import { Actions, Field, FieldError, Form, useFieldErrors } from '../../components/form.js';

type Kind = 'stdio' | 'http';

/** One environment variable or header; a secret goes to the encrypted store, never into the config file. */
interface Pair {
  key: string;
  value: string;
  secret: boolean;
  /** A secret already saved: left empty, it is kept as it is. */
  saved?: boolean;
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
    if (pair.secret && !pair.value && pair.saved) {
      out[key] = { secret: true };
      continue;
    }
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
    <fieldset className="pairs">
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
            placeholder={pair.saved ? 'saved (type to replace)' : 'value'}
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

/** Rows from a saved entry: secrets come back as `{ secret: true }` and stay hidden. */
function toPairs(values: Record<string, SecretValue> | undefined): Pair[] {
  return Object.entries(values ?? {}).map(([key, value]) =>
    typeof value === 'string'
      ? { key, value, secret: false, touched: true }
      : { key, value: '', secret: true, saved: true, touched: true },
  );
}

/** The fields this form edits; everything else of a saved entry (overrides, timeouts) is kept. */
const FORM_FIELDS = ['command', 'args', 'env', 'cwd', 'type', 'url', 'headers'] as const;

function TestResult({ result }: { result: BackendTestResult }) {
  const { status, tools, stderr } = result;
  if (status.state === 'ready') {
    return (
      <div className="outcome ok" role="status">
        <strong>Connected</strong>
        {status.server && ` to ${status.server.name} ${status.server.version}`} · {tools.length} tool
        {tools.length === 1 ? '' : 's'}
        {tools.length > 0 && (
          <div className="detail">{tools.slice(0, 12).join(', ') + (tools.length > 12 ? ', …' : '')}</div>
        )}
      </div>
    );
  }
  return (
    <div className="outcome failed" role="status">
      <strong>{status.state === 'connecting' ? 'Still connecting after a minute' : 'Could not connect'}</strong>
      {status.lastError && <div>{status.lastError}</div>}
      {stderr.length > 0 && <pre className="stderr">{stderr.join('\n')}</pre>}
    </div>
  );
}

export interface BackendFormProps {
  /** Editing an existing server: its name is fixed and its saved entry fills the form. */
  edit?: { name: string; entry: BackendEntry };
  onSaved: () => void;
  onCancel: () => void;
}

/** A command the gateway runs, or a remote URL; test it before saving. Errors appear next to their field. */
export function BackendForm({ edit, onSaved, onCancel }: BackendFormProps) {
  const saved = edit?.entry;
  const [kind, setKind] = useState<Kind>(saved && saved.url !== undefined ? 'http' : 'stdio');
  const [name, setName] = useState(edit?.name ?? '');
  const [command, setCommand] = useState(saved?.command ?? '');
  const [args, setArgs] = useState((saved?.args ?? []).join('\n'));
  const [env, setEnv] = useState<Pair[]>(toPairs(saved?.env));
  const [url, setUrl] = useState(saved?.url ?? '');
  const [headers, setHeaders] = useState<Pair[]>(toPairs(saved?.headers));
  const { errors, set: setErrors, fromApi } = useFieldErrors();
  const [busy, setBusy] = useState<'save' | 'test' | undefined>();
  const [tested, setTested] = useState<BackendTestResult | undefined>();

  /** The entry to send, or undefined after showing what is missing. */
  const entry = (): BackendEntry | undefined => {
    const local: Record<string, string> = {};
    if (!name.trim()) local.name = 'Give the server a name.';
    if (kind === 'stdio' && !command.trim()) local.command = 'Which command starts the server?';
    if (kind === 'http' && !url.trim()) local.url = 'The server’s URL is needed.';
    const envValues = toValues(env, 'Variable');
    const headerValues = toValues(headers, 'Header');
    if (kind === 'stdio' && typeof envValues === 'string') local.env = envValues;
    if (kind === 'http' && typeof headerValues === 'string') local.headers = headerValues;
    setErrors(local);
    if (Object.keys(local).length) return undefined;
    const kept: BackendEntry = { ...saved };
    for (const field of FORM_FIELDS) delete kept[field];
    return kind === 'stdio'
      ? {
          ...kept,
          command: command.trim(),
          args: args
            .split('\n')
            .map((a) => a.trim())
            .filter(Boolean),
          env: envValues as Record<string, SecretValue>,
          ...(saved?.cwd ? { cwd: saved.cwd } : {}),
        }
      : {
          ...kept,
          type: saved?.type && saved.type !== 'stdio' ? saved.type : 'http',
          url: url.trim(),
          headers: headerValues as Record<string, SecretValue>,
        };
  };

  // The API names the JSON path at fault (mcpServers.<name>.<field>…): the message goes by that field.
  const entryPath = `mcpServers.${name.trim()}`;
  const showApiError = (error: unknown) =>
    fromApi(error, {
      [entryPath]: 'name',
      ...Object.fromEntries(['command', 'args', 'env', 'url', 'headers'].map((f) => [`${entryPath}.${f}`, f])),
    });

  const test = async () => {
    const config = entry();
    if (!config) return;
    setBusy('test');
    setTested(undefined);
    await api.testBackend(name.trim(), config).then(setTested, showApiError);
    setBusy(undefined);
  };

  const submit = async () => {
    const config = entry();
    if (!config) return;
    setBusy('save');
    try {
      await api.saveBackend(name.trim(), config);
      onSaved();
    } catch (error) {
      showApiError(error);
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <Form title={edit ? `Edit ${edit.name}` : 'Add an MCP server'} onSubmit={submit}>
      <div className="choice" role="radiogroup" aria-label="Kind of server">
        <label>
          <input type="radio" checked={kind === 'stdio'} onChange={() => setKind('stdio')} /> Command on this computer
        </label>
        <label>
          <input type="radio" checked={kind === 'http'} onChange={() => setKind('http')} /> Remote URL
        </label>
      </div>
      <Field label="Name" error={errors.name}>
        <input
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="github"
          aria-label="Name"
          readOnly={edit !== undefined}
        />
      </Field>
      {kind === 'stdio' ? (
        <>
          <Field label="Command" error={errors.command}>
            <input
              value={command}
              onChange={(e) => setCommand(e.target.value)}
              placeholder="npx"
              aria-label="Command"
            />
          </Field>
          <Field label="Arguments" hint="One per line." error={errors.args}>
            <textarea value={args} onChange={(e) => setArgs(e.target.value)} rows={3} aria-label="Arguments" />
          </Field>
          <PairsField
            label="Environment"
            noun="Variable"
            pairs={env}
            onChange={setEnv}
            error={<FieldError>{errors.env}</FieldError>}
          />
        </>
      ) : (
        <>
          <Field label="URL" error={errors.url}>
            <input
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              placeholder="https://example.com/mcp"
              aria-label="URL"
            />
          </Field>
          <PairsField
            label="Headers"
            noun="Header"
            pairs={headers}
            onChange={setHeaders}
            error={<FieldError>{errors.headers}</FieldError>}
          />
        </>
      )}
      <FieldError>{errors.form}</FieldError>
      {tested && <TestResult result={tested} />}
      <Actions>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="secondary" disabled={busy !== undefined} onClick={() => void test()}>
          {busy === 'test' ? 'Testing…' : 'Test connection'}
        </button>
        <button type="submit" disabled={busy !== undefined}>
          {busy === 'save' ? 'Saving…' : edit ? 'Save changes' : 'Add server'}
        </button>
      </Actions>
    </Form>
  );
}

/** The "Add server" button, opening the form. */
export function AddBackend({ onAdded }: { onAdded: () => void }) {
  const [open, setOpen] = useState(false);
  if (!open) {
    return (
      <button type="button" className="secondary" onClick={() => setOpen(true)}>
        Add server
      </button>
    );
  }
  return (
    <BackendForm
      onSaved={() => {
        setOpen(false);
        onAdded();
      }}
      onCancel={() => setOpen(false)}
    />
  );
}
