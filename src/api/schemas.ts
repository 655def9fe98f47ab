import { z } from 'zod';
import type { ActivityFilter } from '../mcp/activity.js';
import { portSchema } from '../config/schema.js';
import { formatPath } from '../config/load.js';
import { GatewayError } from '../shared/errors.js';
import type {
  ConnectClientInput,
  ConsentDecisionInput,
  CreatePersonalTokenInput,
  ImportInput,
  SetClientScopesInput,
  SettingsInput,
  ToolOverrideInput,
} from './contract.js';

/**
 * One zod schema per owner-API input (a request body, or the query of `GET /api/activity`). Every
 * front-end's input passes through `parseInput`, so a refusal is the same everywhere: a
 * `GatewayError('invalid_argument')` whose `field` is the path at fault (`scopes[1]`,
 * `gateway.tunnel.domain`) and whose message says what is wrong without repeating the path.
 */

/** A JSON object with only the named keys; another key is refused as `unknownMessage`, naming it. */
const strictBody = <T extends z.core.$ZodLooseShape>(
  shape: T,
  unknownMessage: string,
  notObject = 'must be a JSON object',
) => z.strictObject(shape, { error: (issue) => (issue.code === 'unrecognized_keys' ? unknownMessage : notObject) });

/** An absent body (no JSON sent) counts as an empty object. */
const orEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((value) => value ?? {}, schema);

const isString = (value: unknown): value is string => typeof value === 'string';

/** `PUT /api/tools/:backend/:tool`. */
export const toolOverrideSchema = strictBody(
  {
    enabled: z.boolean('must be true or false').optional(),
    access: z
      .enum(['read', 'write'], 'must be "read", "write" or null (the server\'s own classification)')
      .nullable()
      .optional(),
  },
  'unknown field (expected "enabled" or "access")',
) satisfies z.ZodType<ToolOverrideInput>;

/** A scope list is short (two per server); the cap keeps a runaway body from reaching the store. */
export const MAX_SCOPES = 1000;

/** `PUT /api/clients/:id/scopes`. */
export const setClientScopesSchema = strictBody(
  {
    scopes: z
      .array(z.string('must be a string').max(300, 'is too long for a scope'), 'must be a list of scopes')
      .max(MAX_SCOPES, `holds at most ${MAX_SCOPES} scopes`),
  },
  'unknown field (only "scopes" can be given)',
  'must be a JSON object with "scopes"',
) satisfies z.ZodType<SetClientScopesInput>;

/** `POST /api/consents/:id`. Scopes that are not strings are dropped, as before. */
export const consentDecisionSchema = orEmpty(
  z.object({
    decision: z.enum(['approve', 'deny'], 'must be "approve" or "deny"'),
    scopes: z
      .array(z.unknown(), 'must be a list of scopes')
      .transform((scopes) => scopes.filter(isString))
      .optional(),
  }),
) satisfies z.ZodType<ConsentDecisionInput>;

/** The longest a personal token may live: a year and a day (leap years). */
const MAX_TOKEN_TTL_SECONDS = 366 * 24 * 3600;

/** `POST /api/tokens`: a missing or blank name is `token`; scopes that are not strings are dropped. */
export const createTokenSchema = orEmpty(
  z.object({
    name: z.preprocess((v) => (isString(v) && v.trim() ? v.trim().slice(0, 100) : 'token'), z.string()),
    scopes: z.preprocess(
      (v) => (Array.isArray(v) ? v.filter(isString) : []),
      z.array(z.string()).min(1, 'at least one scope is required'),
    ),
    ttlSeconds: z.preprocess(
      (v) => (typeof v === 'number' && v > 0 ? v : 0),
      z.number().refine((ttl) => ttl > 0 && ttl <= MAX_TOKEN_TTL_SECONDS, 'must be between 1 s and one year'),
    ),
  }),
) satisfies z.ZodType<CreatePersonalTokenInput>;

/** `PUT /api/gateway`. */
export const setGatewaySchema = orEmpty(z.object({ paused: z.boolean('must be true or false') }));

/** `POST /api/connections/:client`. */
export const connectClientSchema = orEmpty(
  strictBody(
    {
      url: z
        .string('must be an absolute http(s) URL')
        .refine((url) => /^https?:\/\//.test(url) && URL.canParse(url), 'must be an absolute http(s) URL')
        .optional(),
    },
    'unknown field (only "url" can be given)',
  ),
) satisfies z.ZodType<ConnectClientInput>;

/** `POST /api/import/:client`. */
export const importSchema = orEmpty(
  strictBody(
    {
      servers: z.array(z.string('must be a list of server names'), 'must be a list of server names').optional(),
      replace: z.boolean('must be true or false').optional(),
    },
    'unknown field (only "servers" and "replace")',
  ),
) satisfies z.ZodType<ImportInput>;

/** `PUT /api/settings`: fields are named as in the config file (`gateway.port`). */
export const settingsSchema = strictBody(
  {
    port: portSchema.optional(),
    tunnel: strictBody(
      {
        provider: z.enum(['cloudflare', 'ngrok'], 'must be "cloudflare" or "ngrok"').optional(),
        // An empty domain removes it, like null.
        domain: z
          .string('must be a host name, or null')
          .nullable()
          .optional()
          .transform((domain) => (domain === '' ? null : domain)),
        autostart: z.boolean('must be true or false').optional(),
      },
      'unknown setting (provider, domain, autostart)',
      'must be an object',
    ).optional(),
  },
  'unknown setting (only "port" and "tunnel" can be changed here)',
).refine((input) => input.port !== undefined || input.tunnel !== undefined, 'nothing to change');

/** The settings page names its fields as the config file does: `port` is `gateway.port`. */
const settingsField = (path: readonly PropertyKey[]) =>
  path[0] === 'port' || path[0] === 'tunnel' ? ['gateway', ...path] : path;

/** `POST /api/session`: the one-time login link's token. */
export const signInSchema = z.object({ token: z.string().min(1) });

/** A query value as one string: express gives a list for a repeated parameter. */
const queryString = (v: unknown) => (isString(v) && v ? v : undefined);
const queryInteger = (v: unknown) => (isString(v) && Number.isInteger(Number(v)) ? Number(v) : undefined);

/**
 * `GET /api/activity?after&client&tool&outcome&limit`: a filter the page builds as it goes, so a
 * value that means nothing is ignored rather than refused. The limit is capped at 1000.
 */
export const activityQuerySchema = z
  .object({
    after: z.preprocess(queryInteger, z.number().optional()),
    client: z.preprocess(queryString, z.string().optional()),
    tool: z.preprocess(queryString, z.string().optional()),
    outcome: z.preprocess(
      (v) => (v === 'ok' || v === 'error' || v === 'refused' ? v : undefined),
      z.string().optional(),
    ),
    limit: z.preprocess(queryInteger, z.number().optional()),
  })
  .transform(({ after, client, tool, outcome, limit }): ActivityFilter => ({
    ...(after !== undefined ? { after } : {}),
    ...(client !== undefined ? { clientId: client } : {}),
    ...(tool !== undefined ? { tool } : {}),
    ...(outcome !== undefined ? { outcome: outcome as ActivityFilter['outcome'] & string } : {}),
    ...(limit !== undefined && limit > 0 ? { limit: Math.min(limit, 1000) } : {}),
  }));

/** Renders an issue path the way a user finds it: `env.GH_TOKEN`, `scopes[1]`; `body` for the whole input. */
export const fieldPath = (path: readonly PropertyKey[]): string => formatPath(path, 'body');

/** Field paths per schema that are not the input's own (the settings page speaks in config paths). */
const FIELD_MAPS = new Map<z.ZodType, (path: readonly PropertyKey[]) => readonly PropertyKey[]>([
  [settingsSchema, settingsField],
]);

/**
 * The input as `schema` reads it, or a `GatewayError('invalid_argument')` naming the first field at
 * fault (for an unknown key: the key itself) with a message that does not repeat it.
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  const field = fieldPath((FIELD_MAPS.get(schema) ?? ((p) => p))(path));
  throw new GatewayError('invalid_argument', issue.message, { field });
}

export type { SettingsInput };
