import { useEffect, useState } from 'react';
import type { CreatedPersonalToken, PersonalTokenView, ScopeView } from '../../../../src/api/contract.js';
import { api } from '../../api.js';
import { Badge, Card } from '../../components/card.js';
import { CopyableValue } from '../../components/copy-button.js';
import { DataTable, NameCell, type Column } from '../../components/data-table.js';
import { ErrorText, LoadState } from '../../components/empty-state.js';
import { Actions, Field, FieldError, Form, messageOf, useFieldErrors } from '../../components/form.js';
import { useCliCommand } from '../../hooks/use-cli-command.js';
import { usePolled } from '../../hooks/use-polled.js';
import { href } from '../../router.js';

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
          <span className="detail"> every tool of every server, including servers added later</span>
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
                  {s.access} <span className="detail">({s.toolCount === 1 ? '1 tool' : `${s.toolCount} tools`})</span>
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
  const { errors, set: setErrors, clear, fromApi } = useFieldErrors();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (open) api.scopes().then(setScopes, (e: unknown) => setErrors({ form: messageOf(e) }));
  }, [open]);

  if (!open) {
    return (
      <button type="button" className="secondary" onClick={() => setOpen(true)}>
        Create token
      </button>
    );
  }
  const submit = async () => {
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
      // The API names the field at fault; the message goes next to it.
      fromApi(error, { name: 'name', scopes: 'scopes', ttlSeconds: 'ttl' });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Form
      title="Create a personal access token"
      intro={
        <>
          For scripts and clients that cannot sign in with OAuth: they send it in an{' '}
          <code>Authorization: Bearer …</code> header.
        </>
      }
      onSubmit={submit}
    >
      <Field label="Name" error={errors.name}>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="backup script" aria-label="Name" />
      </Field>
      <fieldset className="checks">
        <legend>Access</legend>
        {scopes ? (
          <ScopeChecks scopes={scopes} chosen={chosen} onChange={(next) => (setChosen(next), clear())} />
        ) : (
          <span className="muted-text">Loading…</span>
        )}
        <FieldError>{errors.scopes}</FieldError>
      </fieldset>
      <Field label="Expires after" error={errors.ttl}>
        <select value={ttl} onChange={(e) => setTtl(Number(e.target.value))} aria-label="Expires after">
          {LIFETIMES.map((l) => (
            <option key={l.seconds} value={l.seconds}>
              {l.label}
            </option>
          ))}
        </select>
      </Field>
      <FieldError>{errors.form}</FieldError>
      <Actions>
        <button type="button" className="secondary" onClick={() => (setOpen(false), clear())}>
          Cancel
        </button>
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create token'}
        </button>
      </Actions>
    </Form>
  );
}

/** The new token, shown once: the gateway keeps only a record of it, never the token itself. */
function CreatedOnce({ created, name, onDone }: { created: CreatedPersonalToken; name: string; onDone: () => void }) {
  return (
    <div className="panel secret-once" role="status">
      <h3>Token “{name}” created</h3>
      <p>
        <strong>Copy it now: you won’t see it again.</strong> Cortex keeps only a record of it, so a lost token cannot
        be shown later; revoke it and create another. It expires on {date(created.expiresAt)}.
      </p>
      <CopyableValue value={created.token} secret label="New token" />
      <Actions>
        <button type="button" className="secondary" onClick={onDone}>
          I have copied it
        </button>
      </Actions>
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
  const [created, setCreated] = useState<{ created: CreatedPersonalToken; name: string } | undefined>();
  const cli = useCliCommand();

  const revoke = async (token: PersonalTokenView) => {
    // Destructive: whatever uses the token stops working at once.
    if (!window.confirm(`Revoke the token "${token.name}"? Anything using it is refused from now on.`)) return;
    setError(undefined);
    await api.revokeToken(token.id).catch((e: unknown) => setError(messageOf(e)));
    reload();
  };

  const now = Date.now();
  const columns: Column<PersonalTokenView>[] = [
    { header: 'Token', cell: (t) => <NameCell name={t.name} detail={t.id} /> },
    {
      header: 'Access',
      cell: (t) =>
        t.scopes.map((s) => (
          <span key={s} className="scope">
            {s === EVERYTHING ? '* (everything)' : s}
          </span>
        )),
    },
    { header: 'Created', kind: 'muted', cell: (t) => date(t.createdAt) },
    { header: 'Expires', kind: 'muted', cell: (t) => date(t.expiresAt) },
  ];
  return (
    <Card
      title="Personal access tokens"
      {...(tokens && tokens.length > 0
        ? { summary: `${tokens.filter((t) => !t.revokedAt && t.expiresAt > now).length} active of ${tokens.length}` }
        : {})}
    >
      {actionError && <ErrorText>{actionError}</ErrorText>}
      {created && <CreatedOnce {...created} onDone={() => setCreated(undefined)} />}
      {!created && (
        <LoadState
          value={tokens}
          error={loadError}
          what="the tokens"
          isEmpty={(list) => list.length === 0}
          empty={
            <>
              No tokens yet. Create one for a script or a client that only takes a header; you choose what it may use
              and when it expires. <code>{cli} token create</code> does the same from a terminal.
            </>
          }
        />
      )}
      {tokens && tokens.length > 0 && (
        <DataTable
          label="Personal access tokens"
          rows={tokens}
          columns={columns}
          rowKey={(t) => t.id}
          rowClass={(t) => (t.revokedAt || t.expiresAt <= now ? 'off' : undefined)}
          actions={(t) =>
            t.revokedAt ? (
              <Badge tone="disabled">Revoked</Badge>
            ) : t.expiresAt <= now ? (
              <Badge tone="disabled">Expired</Badge>
            ) : (
              <button type="button" className="link danger" onClick={() => void revoke(t)}>
                Revoke
              </button>
            )
          }
        />
      )}
      {tokens && (
        <CreateToken
          onCreated={(token, name) => {
            setCreated({ created: token, name });
            reload();
          }}
        />
      )}
    </Card>
  );
}
