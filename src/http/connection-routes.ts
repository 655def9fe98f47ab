import type { Express, NextFunction, Request, Response } from 'express';
import type expressModule from 'express';
import type { ClientChangeView, ClientConnectionView, ConnectClientInput } from '../api/contract.js';
import { answer } from './api-answer.js';

/** MCP client apps on this machine (src/clients), as the owner connects them to the gateway. */
export interface ClientConnections {
  list(): Promise<ClientConnectionView[]>;
  /** `url` defaults to this gateway's MCP URL. */
  connect(client: string, url?: string): Promise<ClientChangeView>;
  disconnect(client: string): Promise<ClientChangeView>;
}

type Handler = (req: Request, res: Response, next: NextFunction) => void;

/** `{ url? }` from a request body, or the message naming the field at fault. */
function parseConnectInput(body: unknown): ConnectClientInput | { message: string } {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) return { message: 'body: must be a JSON object' };
  const { url, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown) return { message: `${unknown}: unknown field (only "url" can be given)` };
  if (url === undefined) return {};
  if (typeof url !== 'string' || !/^https?:\/\//.test(url) || !URL.canParse(url)) {
    return { message: 'url: must be an absolute http(s) URL' };
  }
  return { url };
}

/** GET /api/connections, POST and DELETE /api/connections/:client (API_ROUTES in the contract). */
export function mountConnectionRoutes(
  app: Express,
  express: typeof expressModule,
  ownerOnly: Handler,
  connections: ClientConnections,
): void {
  app.get('/api/connections', ownerOnly, async (_req, res) => {
    res.json({ ok: true, value: await connections.list() });
  });
  app.post('/api/connections/:client', ownerOnly, express.json({ limit: '16kb' }), async (req, res) => {
    const input = parseConnectInput(req.body);
    if ('message' in input) {
      return void res.status(400).json({ ok: false, error: { code: 'invalid_argument', message: input.message } });
    }
    await answer(res, () => connections.connect(String(req.params.client), input.url));
  });
  app.delete('/api/connections/:client', ownerOnly, async (req, res) => {
    await answer(res, () => connections.disconnect(String(req.params.client)));
  });
}
