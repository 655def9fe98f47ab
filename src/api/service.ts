/**
 * The console API: every operation the owner can do, in one object every front-end calls (the HTTP
 * routes, the CLI, the tray). A little over 400 lines on purpose: the methods are one-liners over the
 * parts passed in, and splitting them by area would scatter the one list a reader looks for.
 */
import type { SharedBackendOptions } from '../backends/backend.js';
import type { BackendPool } from '../backends/pool.js';
import { probeEntry } from '../backends/probe.js';
import type { ConfigEditor } from '../config/editor.js';
import { readGatewaySettings, readServerEntry } from '../config/file.js';
import type { GatewayConfig, ToolOverride, TunnelSettings } from '../config/schema.js';
import { maskSecrets } from '../config/secret-refs.js';
import { clientEnvironment, createClientConnections, fallbackPortWarning } from '../clients/index.js';
import { existingBackends, previewImport, runImport } from '../clients/import.js';
import type { NamingNote } from '../federation/catalog.js';
import type { Federation } from '../federation/federation.js';
import { backendScope } from '../federation/scopes.js';
import { applyToolOverride, toolViews } from '../federation/tool-views.js';
import type { ActivityFilter, ActivityLog } from '../mcp/activity.js';
import type { AuthorizationServer, Origin } from '../oauth/server.js';
import { OAuthError } from '../oauth/errors.js';
import { setGrant } from '../oauth/owner-grants.js';
import type { OAuthStore } from '../oauth/store.js';
import type { ScopeGroup } from '../oauth/consent-page.js';
import type { Clock } from '../shared/clock.js';
import { GatewayError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type {
  ActivityEntry,
  BackendStatus,
  BackendTestResult,
  ClientChangeView,
  ClientConnectionView,
  ClientView,
  ConnectClientInput,
  ConsentDecisionInput,
  CreatedPersonalToken,
  CreatePersonalTokenInput,
  GatewayStatusView,
  ImportInput,
  ImportPreview,
  ImportResult,
  PendingConsentView,
  PersonalTokenView,
  ScopeView,
  SettingsInput,
  SettingsView,
  ToolOverrideInput,
  ToolView,
  TunnelStatus,
} from './contract.js';

/**
 * Said by a front-end whose owner may have left while a change waited for its turn (a console
 * session signed out in between): it throws to refuse the change. The CLI and the tray have nothing
 * to check and pass none.
 */
export type OwnerCheck = () => void;

/** What the owner may do with the authorization server (src/oauth), narrowed to the console's needs. */
export type OwnerAuthorization = Pick<
  AuthorizationServer,
  | 'clients'
  | 'revokeClient'
  | 'rotateKeys'
  | 'pendingConsents'
  | 'decideAsOwner'
  | 'personalTokens'
  | 'createPersonalToken'
  | 'revokePersonalToken'
>;

/** Every part of the gateway the owner's operations touch, passed in (no closure over the gateway). */
export interface ConsoleApiDeps {
  version: string;
  /** How the owner runs the CLI here (`cortex-gateway` by default). */
  cliCommand: string;
  clock: Clock;
  logger: Logger;
  /** The configuration in force now (backends change with edits; gateway settings at restart). */
  config: () => GatewayConfig;
  /** The config file the owner's edits go to; absent: nothing can be saved. */
  configPath?: string;
  dataDir?: string;
  /** Where log lines go, for the settings page. */
  logLocation?: string;
  /** The environment client apps' config locations are found from. */
  env: NodeJS.ProcessEnv;
  pool: BackendPool;
  federation: Federation;
  /** Serialized edits of the config file, applied live; absent without a config file. */
  editor?: ConfigEditor;
  activity: ActivityLog;
  /** What a test of an unsaved backend entry connects with (as the pool's backends do). */
  backendOptions: SharedBackendOptions;
  /** The authorization server and its store, once the gateway has started. */
  oauth: () => { server: OwnerAuthorization; store: OAuthStore } | undefined;
  /** Where the gateway listens, once started. */
  address: () => { mcpUrl: string; port: number } | undefined;
  /** The local origins the gateway answers on; personal tokens are minted for the first by default. */
  origins: () => readonly Origin[];
  /** Open MCP sessions are told their lists changed when an application's grant changes. */
  grantsChanged: () => void;
  paused: () => boolean;
  setPaused: (paused: boolean) => void;
  tunnel: { status(): TunnelStatus; start(): Promise<TunnelStatus>; stop(): Promise<TunnelStatus> };
  /** Saved tunnel settings, in the edit's turn: the next tunnel start uses them (absent: an embedder's provider stays). */
  tunnelSettingsSaved?: (settings: TunnelSettings) => void;
  /** A one-time console sign-in token (15 minutes). */
  loginToken: () => string;
}

/** The owner's operations, one method each; every front-end (HTTP, CLI, tray) calls these. */
export type ConsoleApi = ReturnType<typeof createConsoleApi>;

export function createConsoleApi(deps: ConsoleApiDeps) {
  const { pool, federation, editor } = deps;
  const gatewaySettings = () => deps.config().gateway;

  const requireBackend = (name: string) => {
    const backend = pool.get(name);
    if (!backend) throw new GatewayError('not_found', `No backend named "${name}"`);
    return backend;
  };
  const requireOAuth = () => {
    const oauth = deps.oauth();
    if (!oauth) throw new GatewayError('not_running', 'Start the gateway first');
    return oauth;
  };

  /** Console edits: change the file, then apply the result live, in the edit's turn. */
  async function editServers(change: (servers: Record<string, unknown>) => void): Promise<BackendStatus[]> {
    if (!editor) throw new GatewayError('not_found', 'This gateway was started without a config file to edit');
    await invalidAsArgument(() => editor.editServers(change));
    return pool.statuses();
  }

  const scopeGroups = (): ScopeGroup[] =>
    deps
      .config()
      .backends.filter((b) => b.enabled)
      .map((b) => {
        const tools = federation.catalog.tools.filter((t) => t.backendId === b.id);
        const readTools = tools.filter((t) => t.access === 'read').length;
        return {
          backend: b.name,
          readScope: backendScope(b.id, 'read'),
          writeScope: backendScope(b.id, 'write'),
          readTools,
          writeTools: tools.length - readTools,
        };
      });

  const tools = (): ToolView[] =>
    toolViews(
      pool.backends.map((b) => ({
        name: b.name,
        id: b.id,
        enabled: b.config.enabled,
        catalog: b.catalog,
        overrides: b.config.tools,
      })),
      federation.catalog,
    );

  /** The settings page. The port is read from the file, so a saved one shows until the restart that applies it. */
  async function settings(): Promise<SettingsView> {
    // An unreadable file (a hand edit in progress) must not take the page down: show what runs.
    const saved = deps.configPath
      ? await readGatewaySettings(deps.configPath).catch(() => gatewaySettings())
      : gatewaySettings();
    const address = deps.address();
    return {
      version: deps.version,
      port: saved.port,
      ...(address ? { listeningPort: address.port, mcpUrl: address.mcpUrl } : {}),
      ...(deps.dataDir ? { dataDir: deps.dataDir } : {}),
      ...(deps.configPath ? { configPath: deps.configPath } : {}),
      logLocation: deps.logLocation ?? 'standard error of the cortex-gateway process (its terminal or service log)',
      tunnel: {
        provider: saved.tunnel.provider,
        ...(saved.tunnel.domain ? { domain: saved.tunnel.domain } : {}),
        autostart: saved.tunnel.autostart,
      },
    };
  }

  const gatewayStatus = (): GatewayStatusView => ({
    paused: deps.paused(),
    mcpUrl: deps.address()?.mcpUrl ?? '',
    version: deps.version,
    cliCommand: deps.cliCommand,
  });

  /** A tunnel that failed to start or stop is a refusal with its reason, not a status to read. */
  const tunnelOutcome = (status: TunnelStatus): TunnelStatus => {
    if (status.state === 'failed') throw new GatewayError('tunnel_failed', status.lastError ?? 'failed');
    return status;
  };

  const connections = createClientConnections(() => deps.address()?.mcpUrl ?? '', {
    environment: clientEnvironment(deps.env),
  });
  /**
   * Why a client app given this gateway's URL now may lose it: the gateway sits on a fallback port.
   * Here, so that every front-end that connects an app (console, CLI, tray) warns alike.
   */
  const fallbackWarning = (): string | undefined => {
    const address = deps.address();
    return address ? fallbackPortWarning(address.port, gatewaySettings().port) : undefined;
  };

  const importOptions = () => ({
    environment: clientEnvironment(deps.env),
    existing: existingBackends(deps.config().backends),
  });

  return {
    // Backends
    backends: (): BackendStatus[] => pool.statuses(),
    backendStderr: (name: string): string[] => requireBackend(name).stderrLines(),
    /** A backend's entry as the owner edits it: from the file when there is one, secrets as `{ secret: true }`. */
    async backendConfig(name: string): Promise<unknown> {
      if (deps.configPath) {
        const entry = await readServerEntry(deps.configPath, name);
        if (entry === undefined) throw new GatewayError('not_found', `No backend named "${name}"`);
        return maskSecrets(entry);
      }
      const backend = deps.config().backends.find((b) => b.name === name);
      if (!backend) throw new GatewayError('not_found', `No backend named "${name}"`);
      const { name: _name, id: _id, ...entry } = backend;
      return maskSecrets(entry);
    },
    /** Adds or replaces a backend; bad input is refused naming the JSON path and leaves the file as it was. */
    putBackend: (name: string, entry: unknown, confirm?: OwnerCheck): Promise<BackendStatus[]> =>
      editServers((servers) => {
        // Its command runs once saved: the owner must still be there when the edit's turn comes.
        confirm?.();
        servers[name] = entry;
      }),
    async deleteBackend(name: string): Promise<BackendStatus[]> {
      requireBackend(name);
      return editServers((servers) => {
        // Checked again in the edit's turn: an edit that ran first may have removed it.
        if (!Object.hasOwn(servers, name)) {
          throw new GatewayError(
            'conflict',
            `Backend "${name}" is no longer in the config file: another edit removed it`,
            { field: `mcpServers.${name}` },
          );
        }
        delete servers[name];
      });
    },
    async restartBackend(name: string): Promise<null> {
      await requireBackend(name).restart();
      return null;
    },
    /** Connects an entry once, unsaved, with the saved entry's secrets behind `{ "secret": true }`. */
    async testBackend(name: string, entry: unknown, confirm?: OwnerCheck): Promise<BackendTestResult> {
      return invalidAsArgument(async () => {
        confirm?.();
        const saved = deps.configPath
          ? await readServerEntry(deps.configPath, name)
          : deps.config().backends.find((b) => b.name === name);
        return probeEntry(
          { name, entry, saved },
          {
            ...deps.backendOptions,
            settings: gatewaySettings(),
            logger: deps.logger.child({ component: 'backend-test' }),
          },
        );
      });
    },
    catalogNotes: (): readonly NamingNote[] => federation.catalog.notes,

    // Tools and scopes
    tools,
    /** One tool's override, written to the file and applied in place (the backend keeps running). */
    async setToolOverride(backend: string, tool: string, change: ToolOverrideInput): Promise<ToolView[]> {
      const live = requireBackend(backend);
      if (!live.catalog.tools.some((t) => t.name === tool)) {
        throw new GatewayError('not_found', `Backend "${backend}" has no tool named "${tool}"`);
      }
      await editServers((servers) => {
        const entry = Object.hasOwn(servers, backend) ? servers[backend] : undefined;
        // Checked again in the edit's turn: an edit that ran first may have removed it.
        if (typeof entry !== 'object' || entry === null) {
          throw new GatewayError(
            'conflict',
            `Backend "${backend}" is no longer in ${deps.configPath}: another edit removed it; the override was not saved`,
            { field: `mcpServers.${backend}` },
          );
        }
        const current = (entry as { tools?: Record<string, ToolOverride> }).tools;
        servers[backend] = { ...entry, tools: applyToolOverride(current, tool, change) };
      });
      // The federation rebuilds on the next turn; answer after it, so the caller's next list sees the change.
      await new Promise((resolve) => setImmediate(resolve));
      return tools();
    },
    scopeGroups,
    /** Every scope a client or token may be granted, read and write per enabled backend, with tool counts. */
    scopes: (): ScopeView[] =>
      scopeGroups().flatMap((g) => [
        { scope: g.readScope, backend: g.backend, access: 'read' as const, toolCount: g.readTools },
        { scope: g.writeScope, backend: g.backend, access: 'write' as const, toolCount: g.readTools + g.writeTools },
      ]),
    activity: (filter: ActivityFilter = {}): ActivityEntry[] => deps.activity.list(filter),

    // Settings and the gateway itself
    settings,
    async saveSettings(input: SettingsInput): Promise<SettingsView> {
      if (!editor)
        throw new GatewayError('no_config_file', 'This gateway was started without a config file to save to');
      await invalidAsArgument(
        () =>
          editor.updateGateway(input, (saved) => {
            // Switched in the edit's turn, so the last saved settings win.
            if (input.tunnel) deps.tunnelSettingsSaved?.(saved.config.gateway.tunnel);
          }),
        'gateway',
      );
      return settings();
    },
    gateway: gatewayStatus,
    setGateway(input: { paused: boolean }): GatewayStatusView {
      deps.setPaused(input.paused);
      return gatewayStatus();
    },
    tunnel: (): TunnelStatus => deps.tunnel.status(),
    startTunnel: async (): Promise<TunnelStatus> => tunnelOutcome(await deps.tunnel.start()),
    stopTunnel: async (): Promise<TunnelStatus> => tunnelOutcome(await deps.tunnel.stop()),
    /** A one-time link that signs the owner in to the console at `origin` (`http://127.0.0.1:3590`). */
    loginLink: (origin: string): { url: string } => ({ url: `${origin}/app/login?token=${deps.loginToken()}` }),

    // Applications, consents and tokens
    clients: (): ClientView[] => requireOAuth().server.clients(),
    async revokeClient(clientId: string): Promise<null> {
      if (!(await requireOAuth().server.revokeClient(clientId))) throw new GatewayError('not_found', 'No such client');
      return null;
    },
    /**
     * The owner sets what an application may use. Every scope must be one of a configured server
     * (enabled or not); the change applies to the app's next request and its open sessions are told
     * their lists changed.
     */
    async setClientScopes(clientId: string, scopes: readonly string[]): Promise<ClientView> {
      const { server, store } = requireOAuth();
      const known = new Set(
        deps.config().backends.flatMap((b) => [backendScope(b.id, 'read'), backendScope(b.id, 'write')]),
      );
      const unknown = scopes.findIndex((scope) => !known.has(scope));
      if (unknown !== -1) {
        throw new GatewayError(
          'invalid_argument',
          `"${scopes[unknown]}" is not a scope of a configured server (mcp:<server>:read or mcp:<server>:write)`,
          { field: `scopes[${unknown}]` },
        );
      }
      const outcome = await setGrant(store, clientId, scopes, deps.clock.now());
      if (outcome === 'missing') throw new GatewayError('not_found', `No application with client id "${clientId}"`);
      if (outcome === 'no-grant') {
        throw new GatewayError(
          'conflict',
          `Application "${clientId}" has no access to change: it must sign in and be approved first`,
        );
      }
      deps.logger.info('access changed by the owner', { clientId, scopes: scopes.join(' ') });
      deps.grantsChanged();
      return server.clients().find((c) => c.clientId === clientId)!;
    },
    rotateKeys: async (): Promise<{ kid: string }> => ({ kid: await requireOAuth().server.rotateKeys() }),
    pendingConsents: (): PendingConsentView[] => requireOAuth().server.pendingConsents(),
    /** Without scopes, the request's suggested ones: read access at most. */
    decideConsent(id: string, input: ConsentDecisionInput): null {
      if (!requireOAuth().server.decideAsOwner(id, input.decision === 'approve', input.scopes)) {
        throw new GatewayError('not_found', 'No pending request with that id');
      }
      return null;
    },
    tokens: (): PersonalTokenView[] => requireOAuth().server.personalTokens(),
    /** A personal access token for the origin it will be used on (default: the first loopback one). */
    async createToken(input: CreatePersonalTokenInput, origin?: Origin): Promise<CreatedPersonalToken> {
      const { server } = requireOAuth();
      const at = origin ?? deps.origins()[0];
      if (!at) throw new GatewayError('not_running', 'Start the gateway before creating tokens');
      try {
        return await server.createPersonalToken({ ...input, origin: at });
      } catch (error) {
        if (error instanceof OAuthError)
          throw new GatewayError('invalid_argument', error.description, { field: 'scopes' });
        throw error;
      }
    },
    async revokeToken(id: string): Promise<null> {
      if (!(await requireOAuth().server.revokePersonalToken(id))) throw new GatewayError('not_found', 'No such token');
      return null;
    },

    // Client apps on this machine
    connections: (): Promise<ClientConnectionView[]> => connections.list(),
    /** Writes our entry into the app's config; warns when the gateway's own URL sits on a fallback port. */
    async connectClient(client: string, input: ConnectClientInput = {}): Promise<ClientChangeView> {
      const change = await connections.connect(client, input.url);
      const note = input.url === undefined ? fallbackWarning() : undefined;
      return note ? { ...change, warnings: [note, ...change.warnings] } : change;
    },
    disconnectClient: (client: string): Promise<ClientChangeView> => connections.disconnect(client),
    importPreview: (client: string): Promise<ImportPreview> => previewImport(client, importOptions()),
    /** Servers of a client app into this gateway's config, applied live like a console edit. */
    importServers(client: string, input: ImportInput = {}): Promise<ImportResult> {
      if (!editor) throw new GatewayError('not_found', 'This gateway was started without a config file to edit');
      return runImport(client, {
        ...importOptions(),
        ...(input.servers ? { only: input.servers } : {}),
        replace: input.replace === true,
        gatewayUrl: deps.address()?.mcpUrl ?? '',
        edit: (change) => editServers(change),
      });
    },
  };
}

/**
 * The configuration the owner sent is invalid: the request's fault (`invalid_argument`), naming the
 * field the validation error carries (or `fallbackField`).
 */
async function invalidAsArgument<T>(action: () => Promise<T>, fallbackField?: string): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof GatewayError && error.code === 'config_invalid')) throw error;
    const field = error.field ?? fallbackField;
    throw new GatewayError('invalid_argument', error.message, { cause: error, ...(field ? { field } : {}) });
  }
}
