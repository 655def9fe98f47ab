import type { Express, NextFunction, Request, Response } from 'express';
import type expressModule from 'express';
import type { ScopeView, SettingsInput, SettingsView } from '../api/contract.js';
import { GatewayError } from '../shared/errors.js';
import { answer } from './api-answer.js';

/** The gateway's own settings as the owner sees and changes them. */
export interface OwnerSettings {
  get(): Promise<SettingsView>;
  /** Writes the change to the config file; absent when the gateway has no config file. */
  save?(input: SettingsInput): Promise<SettingsView>;
}

export interface SettingsRoutesOptions {
  settings?: OwnerSettings;
  /** The scopes clients and tokens may be granted, from the configuration. */
  scopes?: () => ScopeView[];
}

type Handler = (req: Request, res: Response, next: NextFunction) => void;

/** `{ port?, tunnel? }` from a request body, or the message naming the field at fault. */
export function parseSettingsInput(body: unknown): SettingsInput | { field: string; message: string } {
  const fail = (field: string, message: string) => ({ field, message: `${field}: ${message}` });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('body', 'must be a JSON object');
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (key !== 'port' && key !== 'tunnel')
      return fail(key, 'unknown setting (only "port" and "tunnel" can be changed here)');
  }
  const out: SettingsInput = {};
  if (input.port !== undefined) {
    if (typeof input.port !== 'number') return fail('gateway.port', 'must be a whole number from 0 to 65535');
    out.port = input.port;
  }
  if (input.tunnel !== undefined) {
    const tunnel = input.tunnel as Record<string, unknown>;
    if (typeof tunnel !== 'object' || tunnel === null || Array.isArray(tunnel)) {
      return fail('gateway.tunnel', 'must be an object');
    }
    const change: NonNullable<SettingsInput['tunnel']> = {};
    for (const [key, value] of Object.entries(tunnel)) {
      const field = `gateway.tunnel.${key}`;
      if (key === 'provider') {
        if (value !== 'cloudflare' && value !== 'ngrok') return fail(field, 'must be "cloudflare" or "ngrok"');
        change.provider = value;
      } else if (key === 'domain') {
        if (value !== null && typeof value !== 'string') return fail(field, 'must be a host name, or null');
        change.domain = value === '' ? null : value;
      } else if (key === 'autostart') {
        if (typeof value !== 'boolean') return fail(field, 'must be true or false');
        change.autostart = value;
      } else {
        return fail(field, 'unknown setting (provider, domain, autostart)');
      }
    }
    out.tunnel = change;
  }
  if (out.port === undefined && out.tunnel === undefined) return fail('body', 'nothing to change');
  return out;
}

/** Owner routes for the settings page and the scope list the console builds its forms from. */
export function mountSettingsRoutes(
  app: Express,
  express: typeof expressModule,
  ownerOnly: Handler,
  options: SettingsRoutesOptions,
): void {
  if (options.scopes) {
    const scopes = options.scopes;
    app.get('/api/scopes', ownerOnly, (_req, res) => {
      res.json({ ok: true, value: scopes() });
    });
  }
  const settings = options.settings;
  if (!settings) return;
  app.get('/api/settings', ownerOnly, async (_req, res) => {
    res.json({ ok: true, value: await settings.get() });
  });
  app.put('/api/settings', ownerOnly, express.json({ limit: '16kb' }), async (req, res) => {
    const invalid = (field: string, message: string) =>
      res.status(400).json({ ok: false, error: { code: 'invalid_argument', message, field } });
    const save = settings.save?.bind(settings);
    if (!save) {
      return void res.status(409).json({
        ok: false,
        error: { code: 'no_config_file', message: 'This gateway was started without a config file to save to' },
      });
    }
    const input = parseSettingsInput(req.body);
    if ('field' in input) return void invalid(input.field, input.message);
    await answer(res, async () => {
      try {
        return await save(input);
      } catch (error) {
        // The file is validated whole before it is written: the error names the JSON path at fault.
        if (!(error instanceof GatewayError && error.code === 'config_invalid')) throw error;
        throw new GatewayError('invalid_argument', error.message, { cause: error, field: error.field ?? 'gateway' });
      }
    });
  });
}
