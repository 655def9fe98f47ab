import { ProcessTunnel, type ProcessTunnelOptions, type TunnelProgram } from './process-tunnel.js';

/** One line of the agent's `--log-format json` output, as far as it matters here. */
interface NgrokLogLine {
  lvl?: string;
  msg?: string;
  url?: string;
  err?: string;
}

function parseLine(line: string): NgrokLogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' ? (value as NgrokLogLine) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The public URL in one line of the ngrok agent's JSON log: `{"msg":"started tunnel",
 * "url":"https://…"}`. Only an https origin counts (a tcp:// or http:// tunnel is not for claude.ai).
 */
export function parseNgrokUrl(line: string): string | undefined {
  const entry = parseLine(line);
  if (entry?.msg !== 'started tunnel' || typeof entry.url !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(entry.url);
  } catch {
    return undefined;
  }
  return url.protocol === 'https:' && (url.pathname === '/' || url.pathname === '') ? url.origin : undefined;
}

/** The error a line reports: a JSON entry at `eror`/`crit` level, or the agent's plain `ERROR:` text. */
export function ngrokError(line: string): string | undefined {
  const entry = parseLine(line);
  if (entry) {
    if (entry.lvl !== 'eror' && entry.lvl !== 'crit') return undefined;
    return [entry.msg, entry.err].filter(Boolean).join(': ') || line;
  }
  return /^\s*ERROR:\s+\S/.test(line) ? line.trim() : undefined;
}

/** The agent's program description; with `domain`, the tunnel comes up on that fixed domain. */
export function ngrokProgram(domain?: string): TunnelProgram {
  return {
    ...NGROK,
    args: (target) => [...NGROK.args(target), ...(domain ? [`--domain=${domain}`] : [])],
  };
}

export const NGROK: TunnelProgram = {
  name: 'ngrok',
  binary: 'ngrok',
  pathSetting: 'gateway.tunnel.ngrokPath',
  installUrl: 'https://ngrok.com/download',
  // The agent uses the authtoken from its own config (`ngrok config add-authtoken …`) or from
  // NGROK_AUTHTOKEN in the environment; the gateway never handles it. The Host header is passed
  // through unchanged, which the tunnel listener relies on.
  args: (target) => ['http', target, '--log', 'stdout', '--log-format', 'json'],
  parseUrl: parseNgrokUrl,
  errorOf: ngrokError,
};

/**
 * An ngrok tunnel run by the user's own ngrok agent (v3). The @ngrok/ngrok SDK is not used: it
 * ships native binaries; the agent needs nothing bundled.
 */
export class NgrokTunnel extends ProcessTunnel {
  /**
   * `domain`: the account's own ngrok domain (every account has a free dev domain), so the public
   * URL, and with it the claude.ai connector and its tokens, survives restarts.
   */
  constructor(options: ProcessTunnelOptions & { domain?: string }) {
    super(ngrokProgram(options.domain), options);
  }
}
