import { ProcessTunnel, type ProcessTunnelOptions, type TunnelProgram } from './process-tunnel.js';

/** A zerolog console line at error level or worse (`… ERR …`, `… FTL …`). */
const ERROR_LINE = /\s(ERR|FTL)\s/;

/**
 * The public URL in one line of cloudflared's output, if the line announces it. cloudflared prints
 * it inside an ASCII box (`INF |  https://words.trycloudflare.com  |`), but its log also names
 * other trycloudflare.com addresses: the quick-tunnel API (`api.trycloudflare.com/tunnel`, in
 * errors), so only a bare origin on an informational line is taken.
 */
export function parseQuickTunnelUrl(line: string): string | undefined {
  if (/\s(ERR|WRN|FTL)\s/.test(` ${line} `)) return undefined;
  for (const match of line.matchAll(/https:\/\/([a-z0-9-]+(?:\.[a-z0-9-]+)*\.trycloudflare\.com)(\S*)/gi)) {
    const host = match[1]!.toLowerCase();
    const rest = match[2]!;
    if (host === 'api.trycloudflare.com') continue;
    if (rest !== '' && rest !== '/' && !/^[|"',)]/.test(rest)) continue;
    return `https://${host}`;
  }
  return undefined;
}

/** cloudflared has connected to the edge: the public URL now answers. */
export function isConnectionRegistered(line: string): boolean {
  return /Registered tunnel connection/i.test(line);
}

export const CLOUDFLARED: TunnelProgram = {
  name: 'cloudflare',
  binary: 'cloudflared',
  pathSetting: 'gateway.tunnel.cloudflaredPath',
  installUrl: 'https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/',
  // --no-autoupdate: a self-update restarts cloudflared, and a quick tunnel's URL with it.
  args: (target) => ['tunnel', '--no-autoupdate', '--url', target],
  parseUrl: parseQuickTunnelUrl,
  // The URL is printed before the edge connection exists; wait briefly for it so the URL shown answers.
  isConnected: isConnectionRegistered,
  errorOf: (line) => (ERROR_LINE.test(` ${line} `) ? line : undefined),
};

/**
 * A Cloudflare quick tunnel: `cloudflared tunnel --url <target>` gives a random
 * https://<words>.trycloudflare.com without an account, and a new one on every start.
 */
export class CloudflareQuickTunnel extends ProcessTunnel {
  constructor(options: ProcessTunnelOptions) {
    super(CLOUDFLARED, options);
  }
}
