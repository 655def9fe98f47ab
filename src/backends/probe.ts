import type { BackendTestResult } from './status.js';
import { parseConfig } from '../config/load.js';
import type { GatewaySettings, NamedBackendConfig } from '../config/schema.js';
import { sealSecretInputs } from '../config/secret-refs.js';
import type { SecretStore } from '../store/secrets.js';
import { Backend, type SharedBackendOptions } from './backend.js';

/** As for the pool's backends: the probe's stdio child starts in the folder the backend will run in. */
export interface ProbeOptions extends SharedBackendOptions {
  settings: GatewaySettings;
  /** Give up waiting after this long; the result then says the backend is still connecting. */
  timeoutMs: number;
}

/**
 * Connects a backend once, outside the pool, to show the owner whether a configuration works
 * before it is saved: the first outcome (ready, or the error of the first failed attempt), the
 * tools it offers and what it printed. The backend is always stopped afterwards; no restarts.
 */
export async function probeBackend(config: NamedBackendConfig, options: ProbeOptions): Promise<BackendTestResult> {
  const { settings, timeoutMs, ...shared } = options;
  const backend = new Backend({
    ...shared,
    config: { ...config, enabled: true },
    // No supervision: one attempt is the answer.
    settings: { ...settings, maxRestarts: 1, restartBaseMs: 60_000, restartMaxMs: 60_000 },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      backend.on('state', (status) => {
        if (status.state !== 'connecting') resolve();
      });
      backend.start();
    });
    return {
      status: backend.status(),
      tools: backend.catalog.tools.map((tool) => tool.name),
      stderr: backend.stderrLines().slice(-40),
    };
  } finally {
    clearTimeout(timer);
    await backend.stop();
  }
}

/** The longest a test before saving waits: `npx -y` may download a package first. */
const ENTRY_TEST_TIMEOUT_MS = 60_000;

/**
 * Tests a backend entry as the owner API takes it (the body of `PUT /api/backends/:name`), without
 * saving anything: `{ "secret": "value" }` inputs are used as given, `{ "secret": true }` resolves to
 * the value already stored for the saved entry. Invalid entries throw `config_invalid` naming the path.
 */
export async function probeEntry(
  input: { name: string; entry: unknown; saved: unknown },
  options: Omit<ProbeOptions, 'timeoutMs'>,
): Promise<BackendTestResult> {
  const previous = input.saved === undefined ? {} : { [input.name]: input.saved };
  const sealed = sealSecretInputs({ [input.name]: input.entry }, previous, 'server');
  const [config] = parseConfig({ mcpServers: sealed.servers }, 'server').backends;
  const stored = options.secrets;
  // New secret values exist only in this request; they must not reach the store before a save.
  const overlay: SecretStore = {
    get: async (id) => sealed.staged.get(id) ?? (await stored?.get(id)),
    set: async () => {},
    delete: async () => false,
    ids: async () => [],
  };
  return probeBackend(config!, {
    ...options,
    secrets: overlay,
    timeoutMs: Math.min(config!.startupTimeoutMs, ENTRY_TEST_TIMEOUT_MS),
  });
}
