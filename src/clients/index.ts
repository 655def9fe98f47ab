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
export { CLIENT_IDS, type ClientAppId } from './ids.js';
export { clientEnvironment, type ClientAdapter, type ClientEnvironment } from './types.js';
export type {
  ClientChangeView,
  ClientConnectionView,
  ImportCandidateView,
  ImportPreview,
  ImportResult,
} from './views.js';
