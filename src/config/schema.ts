import { z } from 'zod';

/**
 * The one home of configuration defaults. The file format is Claude Desktop's `mcpServers` shape,
 * so an existing claude_desktop_config.json can be used as is; gateway settings live under `gateway`.
 */

const toolOverride = z.object({
  /** Hide the tool from every client. Default: enabled. */
  enabled: z.boolean().optional(),
  /** Override the read/write classification that otherwise comes from the tool's `readOnlyHint`. */
  access: z.enum(['read', 'write']).optional(),
});

const common = {
  /** A disabled backend is neither started nor listed. Default true. */
  enabled: z.boolean().default(true),
  /** Per-request timeout towards this backend, in milliseconds. Default 60 s. */
  timeoutMs: z.number().int().positive().max(3_600_000).default(60_000),
  /** How long connecting (spawn + initialize) may take; generous because `npx -y` may download first. Default 120 s. */
  startupTimeoutMs: z.number().int().positive().max(3_600_000).default(120_000),
  /** Per-tool overrides, keyed by the backend's own tool name. */
  tools: z.record(z.string(), toolOverride).default({}),
  /**
   * `shared`: one connection to the server serves every client. What the server asks of the user
   * (sampling, elicitation, roots) reaches the client whose call caused it when that call is known:
   * always for a 2026-07-28 server (it asks in its answer to the call, `input_required`), and for a
   * 2025 server over Streamable HTTP when it asks on the call's own stream; a 2025 server over
   * stdio is relayed only while a single call is in flight, otherwise its question is refused.
   * `per-client`: each OAuth client gets its own instance (its own process, or its own HTTP
   * session), started at its first call and stopped after 10 idle minutes, so every question goes
   * to the right client and what the server remembers (roots, state) stays that client's; the
   * server's status counts the instances running (`clientInstances`). Use it
   * for stdio servers that ask the user things while several apps use them. Default `shared`: one
   * process for all is lighter, and most servers ask nothing.
   */
  instances: z.enum(['shared', 'per-client']).default('shared'),
};

const stringMap = z.record(z.string(), z.string());

export const stdioBackendSchema = z
  .object({
    type: z.literal('stdio').optional(),
    command: z.string().min(1, 'command must not be empty'),
    args: z.array(z.string()).default([]),
    env: stringMap.default({}),
    /**
     * The folder the server starts in. A relative path is read from the config file's folder.
     * Default: a private folder of its own, `<data folder>/servers/<backend id>/` (the home folder
     * when the gateway has no data folder); never the gateway's own working directory.
     */
    cwd: z.string().min(1).optional(),
    /**
     * Largest single message (one JSON-RPC line) read from the server, in bytes. A response over it
     * fails only its own call, with an error naming this setting; the server keeps running.
     * Default 64 MiB (the SDK's own transport stopped at 10 MiB and took the connection down).
     */
    maxMessageBytes: z
      .number()
      .int()
      .min(1024)
      .max(512 * 1024 * 1024)
      .default(64 * 1024 * 1024),
    ...common,
  })
  .transform((b) => ({ ...b, type: 'stdio' as const }));

const urlString = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an absolute http(s) URL');

export const remoteBackendSchema = z.object({
  /** `http` is Streamable HTTP (falls back to SSE if the server only speaks that); `sse` is SSE only. */
  type: z.enum(['http', 'streamable-http', 'sse']).transform((t) => (t === 'streamable-http' ? 'http' : t)),
  url: urlString,
  headers: stringMap.default({}),
  ...common,
});

export const backendSchema = z.union([stdioBackendSchema, remoteBackendSchema], {
  error: (issue) => {
    const input = issue.input as Record<string, unknown> | undefined;
    if (input && typeof input === 'object' && !('command' in input) && !('url' in input)) {
      return 'a backend needs either "command" (stdio) or "type" and "url" (http/sse)';
    }
    return undefined;
  },
});

/**
 * A TCP port as the owner may give it (0 picks any free port). The one validator of a port: the
 * config file, `CORTEX_PORT`, the settings page and the owner API all use it.
 */
export const PORT_MESSAGE = 'must be a whole number from 0 to 65535 (0 picks any free port)';
export const portSchema = z.number(PORT_MESSAGE).int(PORT_MESSAGE).min(0, PORT_MESSAGE).max(65535, PORT_MESSAGE);

/** The public tunnel for claude.ai connectors; off until started (console, API, `serve --tunnel`). */
export const tunnelSchema = z
  .object({
    /**
     * Who provides the public URL. Default `cloudflare`: a Cloudflare quick tunnel run by the
     * user's own `cloudflared` (no account needed; a new random URL each start). `ngrok`: the
     * user's own ngrok agent, with the authtoken from its config or NGROK_AUTHTOKEN.
     */
    provider: z.enum(['cloudflare', 'ngrok']).default('cloudflare'),
    /** Path to the cloudflared binary. Default: `cloudflared` found on PATH. */
    cloudflaredPath: z.string().min(1).optional(),
    /** Path to the ngrok agent. Default: `ngrok` found on PATH. */
    ngrokPath: z.string().min(1).optional(),
    /**
     * ngrok only: the account's own domain (e.g. the free dev domain `abc123.ngrok-free.dev`), so the
     * public URL stays the same across restarts and claude.ai connectors keep working. Default: the
     * agent picks.
     */
    domain: z
      .string()
      .regex(
        /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/i,
        'must be a host name like abc123.ngrok-free.dev',
      )
      .optional(),
    /** Start the tunnel whenever the gateway starts. Default false: exposure is an explicit choice. */
    autostart: z.boolean().default(false),
    /** Port of the dedicated loopback listener tunnel traffic arrives on. Default 0 (any free port). */
    port: portSchema.default(0),
  })
  .strict()
  .superRefine((tunnel, ctx) => {
    // Quick tunnels get a random name from Cloudflare; a fixed one is an ngrok feature here.
    if (tunnel.domain !== undefined && tunnel.provider !== 'ngrok') {
      ctx.addIssue({ code: 'custom', path: ['domain'], message: 'needs "provider": "ngrok"' });
    }
  });

export const gatewaySchema = z
  .object({
    /** Port of the local listener; 0 picks a free one. Default 3590, falling back to the next free port if busy. */
    port: portSchema.default(3590),
    /** Address to bind. Default loopback only: the gateway is a personal tool. */
    host: z.string().min(1).default('127.0.0.1'),
    /** Extra Host header values to accept besides loopback names (e.g. a server's own name behind a proxy). */
    allowedHosts: z.array(z.string().min(1)).default([]),
    /**
     * Browser Origins allowed besides the listener's own (`http://127.0.0.1:<port>`, `localhost`,
     * `[::1]`, same port): a page on another local port, such as the MCP Inspector's in its direct
     * mode (`http://localhost:6274`), is refused unless listed here; a listed one also gets CORS on
     * /mcp. Requests without an Origin (not a browser) are not affected.
     */
    allowedOrigins: z.array(z.string().min(1)).default([]),
    /** Largest accepted request body in bytes. Default 4 MiB. */
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
    /**
     * A client must send a request's headers within this, or gets 408 and is disconnected (a
     * slowloris client dribbling headers holds nothing for long). Applies to every listener (the
     * local one and the tunnel's). Default 30 s.
     */
    headersTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(10 * 60 * 1000)
      .default(30_000),
    /**
     * A client must send a whole request, headers and body, within this, or gets 408 and is
     * disconnected. It bounds receiving the request only: a long tool call or an event stream
     * answers for as long as it needs (see `requestTimeoutMs`). At least `headersTimeoutMs`.
     * Default 2 min.
     */
    receiveTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(60 * 60 * 1000)
      .default(120_000),
    /**
     * Open connections per listener; a connection beyond it is closed as it arrives, until others
     * end. Each client session holds about one (its event stream) plus one per call in flight.
     * Default 512.
     */
    maxConnections: z.number().int().min(1).max(65_535).default(512),
    /**
     * Page size for tools/prompts/resources lists sent to clients; 0 sends everything in one page.
     * Default 0, because several popular clients never follow `nextCursor` and would silently lose tools.
     */
    listPageSize: z.number().int().min(0).default(0),
    /**
     * A client session with no request for this long, none in flight and no open event stream is
     * closed (the client gets 404 and starts a new one). Protects a long-running gateway from
     * clients that never say goodbye. Default 30 min.
     */
    sessionIdleMs: z
      .number()
      .int()
      .min(1000)
      .default(30 * 60 * 1000),
    /**
     * Client sessions kept per client (the client id of the token) and in all. A new session
     * beyond a cap closes the least recently used one (of that client, or of all) rather than
     * being refused; its client gets 404 and starts again. Defaults 100 and 1000 (a session costs
     * roughly 25 KB).
     */
    maxSessionsPerClient: z.number().int().min(1).default(100),
    maxSessions: z.number().int().min(1).default(1000),
    /**
     * The backstop for every request from a client: one still unanswered this long after it came
     * (or after its last progress notification, log or question to the user) is answered with
     * error -32001 and its handler stopped, whatever holds it. Progress restarts it, as it restarts
     * a backend's `timeoutMs`, so long calls that report progress run on; a call that reports none
     * is cut at the shorter of this and its backend's `timeoutMs`, so keep this above the largest
     * `timeoutMs`. Default 10 min.
     */
    requestTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(24 * 60 * 60 * 1000)
      .default(10 * 60 * 1000),
    /**
     * Record tool-call argument values (redacted, truncated) on the console's Activity page instead
     * of argument names only. Default false: arguments often carry personal data.
     */
    activityArguments: z.boolean().default(false),
    /**
     * How often a ready backend is pinged, in milliseconds; the first ping goes out as soon as it is
     * ready. The last ping's round trip is the latency shown. Default 15 s.
     */
    pingIntervalMs: z.number().int().min(250).default(15_000),
    /**
     * Restart backoff: first delay and cap, in milliseconds. The delay doubles with each restart
     * that does not reach ready, and starts over from the first delay once the backend is ready.
     */
    restartBaseMs: z.number().int().min(10).default(500),
    restartMaxMs: z.number().int().min(10).default(30_000),
    /** Consecutive restarts without reaching ready after which a backend stays `down` until restarted by hand. 0 = never give up. */
    maxRestarts: z.number().int().min(0).default(0),
    /** Public tunnel settings. */
    tunnel: tunnelSchema.default(() => tunnelSchema.parse({})),
  })
  .strict();

/**
 * The characters of a backend name (the key in `mcpServers`). Besides this pattern, a name may not
 * contain "__", nor two of "_", "." and space in a row (they become "__" in its id): see
 * parseConfig, which says so naming the field.
 */
export const backendNamePattern = /^[A-Za-z0-9_.\- ]{1,64}$/;

export const configSchema = z
  .object({
    mcpServers: z.record(
      z.string().regex(backendNamePattern, 'backend names use letters, digits, "_", "-", "." or spaces (1-64)'),
      backendSchema,
    ),
    gateway: gatewaySchema.default(gatewaySchema.parse({})),
  })
  // Unknown top-level keys are kept out rather than rejected: Claude Desktop configs carry other settings.
  .strip();

export type ToolOverride = z.infer<typeof toolOverride>;
export type StdioBackendConfig = z.infer<typeof stdioBackendSchema>;
export type RemoteBackendConfig = z.infer<typeof remoteBackendSchema>;
export type BackendConfig = z.infer<typeof backendSchema>;
export type GatewaySettings = z.infer<typeof gatewaySchema>;
export type TunnelSettings = z.infer<typeof tunnelSchema>;
export type GatewayConfigInput = z.input<typeof configSchema>;

/** The validated, frozen configuration the core reads. `backends` is derived once here. */
export interface GatewayConfig {
  readonly gateway: Readonly<GatewaySettings>;
  readonly backends: readonly NamedBackendConfig[];
}

export type NamedBackendConfig = BackendConfig & {
  /** The key in `mcpServers`, as the user wrote it. */
  readonly name: string;
  /** The namespace prefix used in federated names and scopes, derived from `name`. */
  readonly id: string;
};
