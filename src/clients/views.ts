/**
 * What the client adapters report, as the owner API, the console and the CLI show it. The contract
 * (src/api/contract.ts) re-exports these types; this file stays free of Node so the renderer can
 * type-check against it.
 */
import type { ClientAppId } from './ids.js';

/** One client app as `cortex-gateway clients` and the console see it. */
export interface ClientConnectionView {
  client: ClientAppId;
  name: string;
  /** The app's folder (or config) was found. */
  installed: boolean;
  configPath: string;
  configExists: boolean;
  /** Our entry is there and points at this gateway's MCP URL. */
  connected: boolean;
  /** Where our entry points, when there is one (possibly an old URL). */
  entryUrl?: string;
  /** The config could not be read (e.g. not valid JSON); nothing is written to it. */
  error?: string;
}

/** What connect / disconnect did. */
export interface ClientChangeView {
  client: ClientAppId;
  configPath: string;
  /** False when the file already said what we wanted (nothing written, no backup). */
  changed: boolean;
  /** The original, copied next to the config before the change. */
  backupPath?: string;
  /** What to do next, e.g. "Restart Claude Desktop". */
  message: string;
  warnings: string[];
}

/** One server configured in a client app, as an import would bring it into the gateway. */
export interface ImportCandidateView {
  /** Its name in the client's config. */
  name: string;
  /** The backend name it gets (or has) in the gateway. */
  backend: string;
  kind: 'stdio' | 'http' | 'sse';
  /** The command line or URL, to recognise it; env and header values are never shown. */
  target: string;
  /** `env.X` / `headers.Y` whose values go to the secret store rather than the config file. */
  secrets: string[];
  /** `new`: would be added; `present`: the gateway already has it (same command or URL); `blocked`: see `problem`. */
  status: 'new' | 'present' | 'blocked';
  problem?: string;
  warnings: string[];
}

/** `GET /api/import/:client`: what the client app has, and what importing would do. */
export interface ImportPreview {
  client: ClientAppId;
  configPath: string;
  servers: ImportCandidateView[];
}

/** `POST /api/import/:client`: what was imported, skipped and replaced. */
export interface ImportResult {
  client: ClientAppId;
  configPath: string;
  /** Added to the gateway now. */
  imported: ImportCandidateView[];
  /** Chosen but not imported, with the reason (already present ones are not repeated here). */
  skipped: Array<{ name: string; reason: string }>;
  /** With `replace`: the change to the client's config, its backup, and how to undo it. */
  replaced?: ClientChangeView;
}
