import type { Express, NextFunction, Request, Response } from 'express';
import type expressModule from 'express';
import { z } from 'zod';
import type { ClientView, SetClientScopesInput } from '../api/contract.js';
import { formatPath } from '../config/load.js';
import { GatewayError } from '../shared/errors.js';
import { answer } from './api-answer.js';

/** Changes what an application is granted; answers the application as the owner now sees it. */
export type SetClientScopes = (clientId: string, scopes: readonly string[]) => Promise<ClientView>;

type Handler = (req: Request, res: Response, next: NextFunction) => void;

/** A scope list is short (two per server); the cap keeps a runaway body from reaching the store. */
const MAX_SCOPES = 1000;

const inputSchema = z.strictObject(
  {
    scopes: z
      .array(z.string('must be a string').max(300, 'is too long for a scope'), 'must be a list of scopes')
      .max(MAX_SCOPES, `holds at most ${MAX_SCOPES} scopes`),
  },
  'must be a JSON object with "scopes"',
) satisfies z.ZodType<SetClientScopesInput>;

/** The body of `PUT /api/clients/:id/scopes`, or a GatewayError naming the field at fault. */
export function parseSetClientScopes(body: unknown): SetClientScopesInput {
  const parsed = inputSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    throw new GatewayError('invalid_argument', `${key}: unknown field (only "scopes" can be given)`, { field: key });
  }
  const field = issue.path.length > 0 ? formatPath(issue.path) : 'body';
  throw new GatewayError('invalid_argument', `${field}: ${issue.message}`, { field });
}

/** `PUT /api/clients/:id/scopes` (API_ROUTES in the contract): the owner's per-app access. */
export function mountGrantRoutes(
  app: Express,
  express: typeof expressModule,
  ownerOnly: Handler,
  setClientScopes: SetClientScopes,
): void {
  app.put('/api/clients/:id/scopes', ownerOnly, express.json({ limit: '64kb' }), async (req, res) => {
    await answer(res, () => setClientScopes(String(req.params.id), parseSetClientScopes(req.body).scopes));
  });
}
