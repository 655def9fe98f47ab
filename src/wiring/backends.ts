import { dirname } from 'node:path';
import type { SharedBackendOptions } from '../backends/backend.js';
import { childrenDir, createChildRegistry } from '../backends/child-registry.js';
import { BackendPool } from '../backends/pool.js';
import type { GatewayConfig } from '../config/schema.js';
import type { GatewayDeps } from '../gateway.js';
import { backendSecretStore } from '../oauth/key-sealing.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { maskErrorText } from '../shared/mask-error.js';
import { createKeyFileSecretStore, createMemorySecretStore, type SecretStore } from '../store/secrets.js';

export interface BackendWiring {
  /** Every secret, the gateway's own included (the key sealing the OAuth signing keys). */
  allSecrets: SecretStore;
  /** The backend secrets only: what backends and config edits get. */
  secrets: SecretStore;
  /** Given to every backend alike: the pool's, and the one a test of an unsaved entry connects. */
  backendOptions: SharedBackendOptions;
  pool: BackendPool;
  /** A backend's error text as a client may see it (`whoami`). */
  maskError(name: string, text: string): string;
}

/** The backends of a gateway and what they share: secrets, the child registry, the pool. */
export function wireBackends(
  initialConfig: GatewayConfig,
  config: () => GatewayConfig,
  deps: GatewayDeps,
  shared: { logger: Logger; clock: Clock; clientInfo: { name: string; version: string } },
): BackendWiring {
  const { logger } = shared;
  const allSecrets =
    deps.secretStore ??
    (deps.dataDir
      ? createKeyFileSecretStore(deps.dataDir, deps.writeFile ? { writeFile: deps.writeFile } : {})
      : createMemorySecretStore());
  // Backends and config edits get the backend secrets only; the gateway's own (the key sealing
  // the OAuth signing keys) stays out of their reach.
  const secrets = backendSecretStore(allSecrets);
  const children = deps.dataDir
    ? createChildRegistry({ dir: childrenDir(deps.dataDir), logger: logger.child({ component: 'children' }) })
    : undefined;
  const backendOptions: SharedBackendOptions = {
    ...shared,
    secrets,
    children,
    // Stdio backends start in a folder of their own, never in the gateway's working directory.
    ...(deps.dataDir ? { dataDir: deps.dataDir } : {}),
    ...(deps.configPath ? { configDir: dirname(deps.configPath) } : {}),
    random: deps.random,
    parentEnv: deps.env,
  };
  const pool = new BackendPool({ ...backendOptions, config: initialConfig });
  /**
   * Its secret values masked, those from the secret store (the backend knows them) and the plain
   * ones in its entry, then anything credential-shaped.
   */
  const maskError = (name: string, text: string): string => {
    const entry = config().backends.find((b) => b.name === name);
    const plain = entry ? Object.values(entry.type === 'stdio' ? entry.env : entry.headers) : [];
    return maskErrorText(pool.get(name)?.maskSecrets(text) ?? text, plain);
  };
  return { allSecrets, secrets, backendOptions, pool, maskError };
}
