/** Client adapters: write (and remove) the gateway's entry in other MCP clients' configs. */
export {
  CLIENTS,
  ENTRY_NAME,
  connectClient,
  createClientConnections,
  detectClient,
  detectClients,
  disconnectClient,
  editClientServers,
  fallbackPortWarning,
  getClient,
  listClientServers,
  type EditOutcome,
  type EngineOptions,
  type ServerEdits,
} from './engine.js';
export type { JsonValue } from './jsonc.js';
export { clientEnvironment, type ClientAdapter, type ClientAppId, type ClientEnvironment } from './types.js';
