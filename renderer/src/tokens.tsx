import { useEffect, useState, type FormEvent } from 'react';
import type { CreatedPersonalToken, PersonalTokenView, ScopeView } from '../../src/api/contract.js';
import { api, ApiError } from './api.js';
import { href } from './router.js';
import { useCliCommand } from './use-cli-command.js';
import { usePolled } from './use-polled.js';

const EVERYTHING = '*';
const DAY = 24 * 3600;
const LIFETIMES = [
  { label: '1 day', seconds: DAY },
  { label: '30 days', seconds: 30 * DAY },
  { label: '90 days', seconds: 90 * DAY },
  { label: '1 year', seconds: 365 * DAY },
] as const;

function date(ms: number): string {
  return new Date(ms).toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' });
}

/** The form's scope choices: everything, or read / write per server. */
function ScopeChecks({
  scopes,
  chosen,
  onChange,
}: {
  scopes: readonly ScopeView[];
  chosen: ReadonlySet<string>;
  onChange: (next: ReadonlySet<string>) => void;
}) {
  const all = chosen.has(EVERYTHING);
  const set = (scope: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(scope);
    else next.delete(scope);
    onChange(next);
  };
  const backends = [...new Set(scopes.map((s) => s.backend))];
  return (
    <>
      <label className="check">
        <input
          type="checkbox"
          checked={all}
          onChange={(e) => set(EVERYTHING, e.target.checked)}
          aria-label="Everything (*)"
        />
        <span>
          <span className="check-title">Everything</span> <code className="scope">*</code>
          <span className="kind"> every tool of every server, including servers added later</span>
        </span>
      </label>
      {backends.length === 0 && (
        <span className="muted-text">
          No servers yet, so there is nothing narrower to choose. <a href={href('servers')}>Add a server</a> to grant
          access to it alone.
        </span>
      )}
      {backends.map((backend) => (
        <div key={backend} className="scope-row">
          <span className="name">{backend}</span>
          {scopes
            .filter((s) => s.backend === backend)
            .map((s) => (
              <label key={s.scope} className="check inline">
                <input
                  type="checkbox"
                  checked={all || chosen.has(s.scope)}
                  disabled={all}
                  onChange={(e) => set(s.scope, e.target.checked)}
                  aria-label={s.scope}
                />
                <span>
                  {s.access} <span className="kind">({s.toolCount === 1 ? '1 tool' : `${s.toolCount} tools`})</span>
                </span>
              </label>
            ))}
        </div>
      ))}
    </>
  );
}

/** Creates a token; errors appear next to their field. */
function CreateToken({ onCreated }: { onCreated: (created: CreatedPersonalToken, name: string) => void }) {
  const [open, setOpen] = useState(false);
  const [scopes, setScopes] = useState<ScopeView[] | undefined>();
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [ttl, setTtl] = useState<number>(LIFETIMES[1].seconds);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (open) api.scopes().then(setScopes, (e: unknown) => setErrors({ form: String(e) }));
  }, [open]);

  if (!open) {
    return (
      <button type="button" className="secondary" onClick={() => setOpen(true)}>
        Create token
      </button>
    );
  }
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const local: Record<string, string> = {};
    if (!name.trim()) local.name = 'Name the token after what will use it, e.g. “backup script”.';
    if (chosen.size === 0) local.scopes = 'Choose what the token may use: at least one box.';
    setErrors(local);
    if (Object.keys(local).length) return;
    // With everything chosen the narrower boxes are moot; send the one scope that says so.
    const list = chosen.has(EVERYTHING) ? [EVERYTHING] : [...chosen];
    setBusy(true);
    try {
      const created = await api.createToken({ name: name.trim(), scopes: list, ttlSeconds: ttl });
      onCreated(created, name.trim());
      setOpen(false);
      setName('');
      setChosen(new Set());
    } catch (error) {
      // The API prefixes its message with the field at fault ("scopes: …", "ttlSeconds: …").
      const message = error instanceof Error ? error.message : String(error);
      const field = error instanceof ApiError ? /^(\w+):/.exec(message)?.[1] : undefined;
      const key = field === 'ttlSeconds' ? 'ttl' : field === 'scopes' || field === 'name' ? field : 'form';
      setErrors({ [key]: message.replace(/^\w+: /, '') });
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (field: string) => errors[field] && <span className="field-error">{errors[field]}</span>;
  return (
    <form className="add-backend" onSubmit={(e) => void submit(e)} noValidate>
      <h3>Create a personal access token</h3>
      <p className="muted-text">
        For scripts and clients that cannot sign in with OAuth: they send it in an <code>Authorization: Bearer …</code>{' '}
        header.
      </p>
      <label className="field">
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="backup script" aria-label="Name" />
        {fieldError('name')}
      </label>
      <fieldset className="checks">
        <legend>Access</legend>
        {scopes ? (
          <ScopeChecks scopes={scopes} chosen={chosen} onChange={(next) => (setChosen(next), setErrors({}))} />
        ) : (
          <span className="muted-text">Loading…</span>
        )}
        {fieldError('scopes')}
      </fieldset>
      <label className="field">
        Expires after
        <select value={ttl} onChange={(e) => setTtl(Number(e.target.value))} aria-label="Expires after">
          {LIFETIMES.map((l) => (
            <option key={l.seconds} value={l.seconds}>
              {l.label}
            </option>
          ))}
        </select>
        {fieldError('ttl')}
      </label>
      {fieldError('form')}
      <div className="actions">
        <button type="button" className="secondary" onClick={() => (setOpen(false), setErrors({}))}>
          Cancel
        </button>
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create token'}
        </button>
      </div>
    </form>
  );
}

/** The new token, shown once: the gateway keeps only a record of it, never the token itself. */
function CreatedOnce({ created, name, onDone }: { created: CreatedPersonalToken; name: string; onDone: () => void }) {
  const [copyLabel, setCopyLabel] = useState('Copy');
  const copy = async () => {
    // The clipboard may be refused (no focus, no permission): say so instead of failing silently.
    const ok = await navigator.clipboard.writeText(created.token).then(
      () => true,
      () => false,
    );
    setCopyLabel(ok ? 'Copied' : 'Copy failed: select the text instead');
  };
  return (
    <div className="secret-once" role="status">
      <h3>Token “{name}” created</h3>
      <p>
        <strong>Copy it now: you won’t see it again.</strong> Cortex keeps only a record of it, so a lost token cannot
        be shown later; revoke it and create another. It expires on {date(created.expiresAt)}.
      </p>
      <div className="url-row">
        <code className="token" aria-label="New token">
          {created.token}
        </code>
        <button type="button" onClick={() => void copy()}>
          {copyLabel}
        </button>
      </div>
      <div className="actions">
        <button type="button" className="secondary" onClick={onDone}>
          I have copied it
        </button>
      </div>
    </div>
  );
}

/** Personal access tokens: listed with their access and lifetime, created here, revoked here. */
export function PersonalTokens() {
  // Polled too: `cortex-gateway token create` adds tokens while the page is open.
  const {
    value: tokens,
    error: loadError,
    reload,
  } = usePolled(() => api.tokens().then((list) => [...list].sort((a, b) => b.createdAt - a.createdAt)), 5000);
  const [actionError, setError] = useState<string | undefined>();
  const error = actionError ?? loadError;
  const [created, setCreated] = useState<{ created: CreatedPersonalToken; name: string } | undefined>();
  const cli = useCliCommand();

  const revoke = async (token: PersonalTokenView) => {
    // Destructive: whatever uses the token stops working at once.
    if (!window.confirm(`Revoke the token "${token.name}"? Anything using it is refused from now on.`)) return;
    await api.revokeToken(token.id).catch((e: unknown) => setError(String(e)));
    reload();
  };

  const now = Date.now();
  return (
    <section className="card">
      <div className="card-head">
        <h2>Personal access tokens</h2>
        {tokens && tokens.length > 0 && (
          <span className="summary">
            {tokens.filter((t) => !t.revokedAt && t.expiresAt > now).length} active of {tokens.length}
          </span>
        )}
      </div>
      {error && <p className="error">Could not load the tokens: {error}</p>}
      {created && <CreatedOnce {...created} onDone={() => setCreated(undefined)} />}
      {tokens && tokens.length === 0 && !created && (
        <p className="muted-text">
          No tokens yet. Create one for a script or a client that only takes a header; you choose what it may use and
          when it expires. <code>{cli} token create</code> does the same from a terminal.
        </p>
      )}
      {tokens && tokens.length > 0 && (
        <table className="backends">
          <thead>
            <tr>
              <th>Token</th>
              <th>Access</th>
              <th>Created</th>
              <th>Expires</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => {
              const expired = t.expiresAt <= now;
              return (
                <tr key={t.id} className={t.revokedAt || expired ? 'off' : undefined}>
                  <td>
                    <div className="name">{t.name}</div>
                    <div className="kind">{t.id}</div>
                  </td>
                  <td>
                    {t.scopes.map((s) => (
                      <span key={s} className="scope">
                        {s === EVERYTHING ? '* (everything)' : s}
                      </span>
                    ))}
                  </td>
                  <td className="muted-text">{date(t.createdAt)}</td>
                  <td className="muted-text">{date(t.expiresAt)}</td>
                  <td className="row-actions">
                    {t.revokedAt ? (
                      <span className="badge badge-disabled">Revoked</span>
                    ) : expired ? (
                      <span className="badge badge-disabled">Expired</span>
                    ) : (
                      <button type="button" className="link danger" onClick={() => void revoke(t)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {tokens && (
        <CreateToken
          onCreated={(token, name) => {
            setCreated({ created: token, name });
            reload();
          }}
        />
      )}
    </section>
  );
}
