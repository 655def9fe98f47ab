import type { Express, NextFunction, Request, Response } from 'express';
import type expressModule from 'express';
import type { ImportInput, ImportPreview, ImportResult } from '../api/contract.js';
import { answer } from './api-answer.js';

/** Servers of a client app brought into the gateway (src/clients/import.ts). */
export interface Importer {
  preview(client: string): Promise<ImportPreview>;
  run(client: string, input: ImportInput): Promise<ImportResult>;
}

type Handler = (req: Request, res: Response, next: NextFunction) => void;

/** `{ servers?, replace? }` from a request body, or the message naming the field at fault. */
export function parseImportInput(body: unknown): ImportInput | { message: string } {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) return { message: 'body: must be a JSON object' };
  const { servers, replace, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown) return { message: `${unknown}: unknown field (only "servers" and "replace")` };
  if (servers !== undefined && (!Array.isArray(servers) || !servers.every((s) => typeof s === 'string'))) {
    return { message: 'servers: must be a list of server names' };
  }
  if (replace !== undefined && typeof replace !== 'boolean') return { message: 'replace: must be true or false' };
  return { ...(servers ? { servers: servers as string[] } : {}), ...(replace !== undefined ? { replace } : {}) };
}

/** GET (preview) and POST (import) /api/import/:client, as API_ROUTES declares them. */
export function mountImportRoutes(app: Express, express: typeof expressModule, ownerOnly: Handler, importer: Importer) {
  app.get('/api/import/:client', ownerOnly, async (req, res) => {
    await answer(res, () => importer.preview(String(req.params.client)));
  });
  app.post('/api/import/:client', ownerOnly, express.json({ limit: '16kb' }), async (req, res) => {
    const input = parseImportInput(req.body);
    if ('message' in input) {
      return void res.status(400).json({ ok: false, error: { code: 'invalid_argument', message: input.message } });
    }
    await answer(res, () => importer.run(String(req.params.client), input));
  });
}
