import type { BackendPool, ReconcileResult } from '../backends/pool.js';
import { createConfigEditor, type ConfigEditor, type ConfigEdit } from '../config/editor.js';
import type { GatewayConfig } from '../config/schema.js';
import { forgetRemovedServers } from '../oauth/owner-grants.js';
import type { OAuthStore } from '../oauth/store.js';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { createSerialQueue } from '../shared/serial-queue.js';
import type { SecretStore } from '../store/secrets.js';

export interface ConfigRuntime {
  /** The configuration in force: backends change at run time, gateway settings are fixed for the process. */
  config(): GatewayConfig;
  /** The owner's edits of the file, when there is one. */
  editor: ConfigEditor | undefined;
  /** Applies a new configuration's backends live, in turn with the owner's edits. */
  reconfigure(next: GatewayConfig): Promise<ReconcileResult>;
  /** Forgets the grants to servers no longer configured; never fails. */
  forgetRemovedGrants(): Promise<void>;
}

export interface ConfigRuntimeOptions {
  initial: GatewayConfig;
  pool: BackendPool;
  /** The backend secrets (src/oauth/key-sealing.ts `backendSecretStore`). */
  secrets: SecretStore;
  configPath?: string | undefined;
  /** OAuth state (clients, consents, keys), once the listener is built. */
  oauthStore: () => OAuthStore | undefined;
  logger: Logger;
}

/** The running configuration and every way it changes: owner edits and `reconfigure`. */
export function createConfigRuntime(options: ConfigRuntimeOptions): ConfigRuntime {
  const { pool, logger } = options;
  let config = options.initial;
  // Every change of the configuration takes its turn here: owner edits (file, then live) and
  // reconfigure(). Each applies on the result of the one before, so none is lost or reordered.
  const serial = createSerialQueue();
  /**
   * Grants to servers no longer configured are forgotten (grants.ts), so a server added later under
   * the same name starts off for every application. A failed write leaves them (they grant nothing
   * while the server is gone) and does not fail the edit that removed the server.
   */
  const forgetRemovedGrants = async () => {
    const store = options.oauthStore();
    if (!store) return;
    try {
      await forgetRemovedServers(store, new Set(config.backends.map((b) => b.id)));
    } catch (error) {
      logger.warn('could not forget the grants of removed servers', { error: describeError(error) });
    }
  };
  /** Inside an edit's turn: the new backends become the running ones (gateway settings wait for a restart). */
  const applyEdit = async (edit: ConfigEdit) => {
    config = Object.freeze({ ...edit.config, gateway: config.gateway });
    await pool.reconcile(config.backends, new Set(edit.secretsChanged));
    await forgetRemovedGrants();
  };
  const editor = options.configPath
    ? createConfigEditor({
        path: options.configPath,
        secrets: options.secrets,
        apply: applyEdit,
        queue: serial,
        logger: logger.child({ component: 'config' }),
      })
    : undefined;
  return {
    config: () => config,
    editor,
    forgetRemovedGrants,
    reconfigure: (next) =>
      // In turn with the owner's edits: never in the middle of one being written and applied.
      serial(async () => {
        config = Object.freeze({ ...next, gateway: config.gateway });
        const changes = await pool.reconcile(config.backends);
        await forgetRemovedGrants();
        logger.info('backends reconfigured', { ...changes });
        return changes;
      }),
  };
}
