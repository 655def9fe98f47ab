import { useEffect, useState } from 'react';
import type { SettingsView, TunnelSettingsView } from '../../../../src/api/contract.js';
import { api, desktop } from '../../api.js';
import { Card } from '../../components/card.js';
import { CopyableValue } from '../../components/copy-button.js';
import { ErrorText } from '../../components/empty-state.js';
import { Actions, Field, FieldError, Form, messageOf, useFieldErrors } from '../../components/form.js';
import { useCliCommand } from '../../hooks/use-cli-command.js';

/** The port, saved to the config file; it applies after a restart, which the page says plainly. */
function PortForm({ settings, onSaved }: { settings: SettingsView; onSaved: (next: SettingsView) => void }) {
  const [value, setValue] = useState(String(settings.port));
  const { errors, set: setErrors, clear, fromApi } = useFieldErrors();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const canSave = settings.configPath !== undefined;

  const submit = async () => {
    setSaved(false);
    if (!/^\d+$/.test(value.trim())) {
      setErrors({ port: 'Enter a whole number from 0 to 65535 (0 picks any free port).' });
      return;
    }
    setBusy(true);
    try {
      onSaved(await api.saveSettings({ port: Number(value.trim()) }));
      clear();
      setSaved(true);
    } catch (e) {
      // The API names the field at fault (gateway.port); anything else is about the form as a whole.
      fromApi(e, { 'gateway.port': 'port' });
    } finally {
      setBusy(false);
    }
  };

  // Port 0 means "any free port", so whatever it listens on is the saved setting in use.
  const pendingRestart =
    settings.listeningPort !== undefined && settings.port !== 0 && settings.port !== settings.listeningPort;
  return (
    <Form onSubmit={submit}>
      <Field
        label="Port"
        error={errors.port}
        hint={
          <>
            Saved as <code>gateway.port</code> in the config file. <strong>Applies after a restart</strong> of Cortex
            Gateway; clients set up with the old address must then be pointed at the new one.
          </>
        }
      >
        <div className="inline-field">
          <input
            value={value}
            inputMode="numeric"
            onChange={(e) => (setValue(e.target.value), clear(), setSaved(false))}
            aria-label="Port"
            aria-invalid={errors.port ? true : undefined}
            disabled={!canSave}
          />
          <button type="submit" disabled={busy || !canSave}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </Field>
      <FieldError>{errors.form}</FieldError>
      {saved && <p className="notice">Saved. Restart Cortex Gateway to listen on port {settings.port}.</p>}
      {!saved && pendingRestart && (
        <p className="notice">
          Port {settings.port} is saved but not in use yet: the running gateway listens on port {settings.listeningPort}{' '}
          until it restarts.
        </p>
      )}
      {!canSave && (
        <p className="muted-text">This gateway was started without a config file, so settings cannot be saved here.</p>
      )}
    </Form>
  );
}

/** Who provides the public URL for claude.ai, saved to the config; the next tunnel start uses it. */
function TunnelForm({ settings, onSaved }: { settings: SettingsView; onSaved: (next: SettingsView) => void }) {
  const [provider, setProvider] = useState<TunnelSettingsView['provider']>(settings.tunnel.provider);
  const [domain, setDomain] = useState(settings.tunnel.domain ?? '');
  const [autostart, setAutostart] = useState(settings.tunnel.autostart);
  const { errors, clear, fromApi } = useFieldErrors();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const canSave = settings.configPath !== undefined;

  const submit = async () => {
    setSaved(false);
    setBusy(true);
    try {
      const change = { provider, autostart, domain: provider === 'ngrok' && domain.trim() ? domain.trim() : null };
      onSaved(await api.saveSettings({ tunnel: change }));
      clear();
      setSaved(true);
    } catch (e) {
      // The API names the field (gateway.tunnel.domain…): the message goes next to that input.
      fromApi(e, {
        'gateway.tunnel.provider': 'provider',
        'gateway.tunnel.domain': 'domain',
        'gateway.tunnel.autostart': 'autostart',
      });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Form onSubmit={submit}>
      <div className="choice stacked" role="radiogroup" aria-label="Tunnel provider">
        <label>
          <input
            type="radio"
            checked={provider === 'cloudflare'}
            aria-label="Cloudflare quick tunnel"
            onChange={() => setProvider('cloudflare')}
            disabled={!canSave}
          />{' '}
          Cloudflare quick tunnel <span className="hint">(no account; a new URL each start)</span>
        </label>
        <label>
          <input
            type="radio"
            checked={provider === 'ngrok'}
            aria-label="ngrok"
            onChange={() => setProvider('ngrok')}
            disabled={!canSave}
          />{' '}
          ngrok <span className="hint">(your account; a fixed URL with your domain)</span>
        </label>
      </div>
      <FieldError>{errors.provider}</FieldError>
      {provider === 'ngrok' && (
        <Field
          label="ngrok domain"
          error={errors.domain}
          hint="Every ngrok account has a free dev domain (see your ngrok dashboard). With it the URL you paste into claude.ai stays the same across restarts."
        >
          <input
            value={domain}
            onChange={(e) => (setDomain(e.target.value), setSaved(false))}
            placeholder="abc123.ngrok-free.dev"
            aria-label="ngrok domain"
            aria-invalid={errors.domain ? true : undefined}
            disabled={!canSave}
          />
        </Field>
      )}
      <label className="checkbox">
        <input
          type="checkbox"
          checked={autostart}
          onChange={(e) => (setAutostart(e.target.checked), setSaved(false))}
          disabled={!canSave}
        />{' '}
        Start the public URL whenever Cortex Gateway starts
      </label>
      <FieldError>{errors.autostart ?? errors.form}</FieldError>
      <Actions>
        <button type="submit" disabled={busy || !canSave}>
          {busy ? 'Saving…' : 'Save tunnel settings'}
        </button>
      </Actions>
      {saved && <p className="notice">Saved. The next time the public URL starts, it uses these settings.</p>}
    </Form>
  );
}

/** Start at login: a desktop app setting, offered only when the app's bridge provides it. */
function StartAtLogin() {
  const control = desktop.startAtLogin;
  const [enabled, setEnabled] = useState<boolean | undefined>();
  const [error, setError] = useState<string | undefined>();
  const cli = useCliCommand();
  useEffect(() => {
    control?.get().then(setEnabled, (e: unknown) => setError(messageOf(e)));
  }, [control]);
  if (!control) {
    return (
      <p className="muted-text">
        Start at login is a setting of the desktop app. This console is served by <code>{cli} serve</code>: to start it
        with your computer, run that command from your system’s service manager (launchd, systemd, Task Scheduler).
      </p>
    );
  }
  const change = async (on: boolean) => {
    setError(undefined);
    await control.set(on).then(setEnabled, (e: unknown) => setError(messageOf(e)));
  };
  return (
    <div className="setting-row toggle">
      <div>
        <div className="name">Start Cortex Gateway when you log in</div>
        <div className="detail">It starts in the tray; the console opens only when you ask for it.</div>
        <FieldError>{error}</FieldError>
      </div>
      <label className="switch">
        <input
          type="checkbox"
          role="switch"
          aria-label="Start at login"
          checked={enabled ?? false}
          disabled={enabled === undefined}
          onChange={(e) => void change(e.target.checked)}
        />
        <span aria-hidden="true" />
      </label>
    </div>
  );
}

const looksLikePath = (value: string) => /^(\/|~|[A-Za-z]:\\)/.test(value);

function InfoRow({ label, value, note }: { label: string; value: string | undefined; note?: string }) {
  return (
    <div className="setting-row">
      <div className="setting-label">{label}</div>
      <div className="setting-value">
        {!value ? (
          <span className="muted-text">{note ?? 'none'}</span>
        ) : looksLikePath(value) ? (
          <code>{value}</code>
        ) : (
          <span>{value}</span>
        )}
      </div>
    </div>
  );
}

/** Where logs go; in the desktop app, its log folder with a button that opens it. */
function LogsRow({ fallback }: { fallback: string }) {
  const [logsDir, setLogsDir] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    desktop.platform?.().then(
      (info) => setLogsDir(info.logsDir),
      () => {},
    );
  }, []);
  const open = desktop.openLogs;
  return (
    <div className="setting-row">
      <div className="setting-label">Logs</div>
      <div className="setting-value">
        {logsDir ? <code>{logsDir}</code> : <span>{fallback}</span>}
        {logsDir && open && (
          <button
            type="button"
            className="link"
            onClick={() => void open().catch((e: unknown) => setError(messageOf(e)))}
          >
            Open folder
          </button>
        )}
        <FieldError>{error}</FieldError>
      </div>
    </div>
  );
}

/** The gateway's settings: its port, where its files and logs are, and what version runs. */
export function Settings() {
  const [settings, setSettings] = useState<SettingsView | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    api.settings().then(setSettings, (e: unknown) => setError(messageOf(e)));
  }, []);

  if (error || !settings) {
    return (
      <Card>
        {error ? <ErrorText>Could not load the settings: {error}</ErrorText> : <p className="muted-text">Loading…</p>}
      </Card>
    );
  }
  return (
    <>
      <Card
        title="Network"
        {...(settings.listeningPort !== undefined
          ? { summary: `listening on 127.0.0.1:${settings.listeningPort}` }
          : {})}
      >
        <p>Cortex Gateway listens on this computer only. Clients reach every server through its MCP address:</p>
        {settings.mcpUrl ? <CopyableValue value={settings.mcpUrl} /> : <code>not listening</code>}
        <PortForm settings={settings} onSaved={setSettings} />
      </Card>
      <Card title="Public URL for claude.ai">
        <p>
          How the gateway gets a public HTTPS address when you start one on the Overview. Only the MCP endpoint and
          sign-in are reachable through it, and every sign-in through it waits for your approval.
        </p>
        <TunnelForm settings={settings} onSaved={setSettings} />
      </Card>
      <Card title="Start at login">
        <StartAtLogin />
      </Card>
      <Card title="Files and logs">
        <InfoRow label="Data folder" value={settings.dataDir} note="none: this gateway keeps its state in memory" />
        <InfoRow label="Config file" value={settings.configPath} note="none: configuration passed in code" />
        <LogsRow fallback={settings.logLocation} />
        <InfoRow label="Version" value={settings.version} />
        <p className="muted-text settings-foot">
          The data folder holds your configuration, the applications you approved, signing keys and encrypted server
          secrets. Back it up to keep them; delete it to start over.
        </p>
      </Card>
    </>
  );
}
