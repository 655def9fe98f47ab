// What the preload bridge's calls do in main. Arguments arrive as `unknown` from a renderer and are
// validated here; every call answers an ApiResult, never a thrown error. No electron import: the
// registration (ipc.ts) is a thin loop over these.
import type { ApiResult, DesktopSettings, PlatformInfo } from '../../../src/api/contract.js';
import { IPC_CHANNELS } from '../../../src/api/contract.js';
import { describeError, isGatewayError, type Logger } from '../../../src/index.js';
import type { DesktopSettingsStore } from '../settings/settings-store.js';
import { desktopSettingsChangeSchema } from '../settings/settings.js';

export interface DesktopServices {
  settings: DesktopSettingsStore;
  /** Applies what takes effect at once (start at login) after a saved change. */
  applySettings: (next: DesktopSettings, previous: DesktopSettings) => Promise<void>;
  platform: () => PlatformInfo;
  openLogs: () => Promise<void>;
  logger: Logger;
}

export type IpcHandler = (arg: unknown) => Promise<ApiResult<unknown>>;
type Channel = (typeof IPC_CHANNELS)[keyof typeof IPC_CHANNELS];

const invalid = (message: string): ApiResult<never> => ({ ok: false, error: { code: 'invalid_argument', message } });

/** Channels that take nothing refuse anything, so a confused or hostile page learns nothing new. */
function noArgument(run: () => Promise<unknown>): IpcHandler {
  return async (arg) => (arg === undefined ? { ok: true, value: await run() } : invalid('takes no argument'));
}

export function createIpcHandlers(services: DesktopServices): Record<Channel, IpcHandler> {
  const handlers: Record<Channel, IpcHandler> = {
    [IPC_CHANNELS.platform]: noArgument(async () => services.platform()),
    [IPC_CHANNELS.getSettings]: noArgument(async () => services.settings.get()),
    [IPC_CHANNELS.setSettings]: async (arg) => {
      const parsed = desktopSettingsChangeSchema.safeParse(arg);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.path.length ? issue.path.join('.') : 'settings';
        return invalid(`${field}: ${issue.message}`);
      }
      const previous = services.settings.get();
      const next = await services.settings.update(parsed.data as Partial<DesktopSettings>);
      await services.applySettings(next, previous);
      return { ok: true, value: next };
    },
    [IPC_CHANNELS.openLogs]: noArgument(async () => {
      await services.openLogs();
      return null;
    }),
  };
  // One place where a failure becomes a result: details go to the log, a short reason to the page.
  return Object.fromEntries(
    Object.entries(handlers).map(([channel, handler]) => [
      channel,
      async (arg: unknown): Promise<ApiResult<unknown>> => {
        try {
          return await handler(arg);
        } catch (error) {
          services.logger.error('IPC call failed', { channel, error: describeError(error) });
          const code = isGatewayError(error) ? error.code : 'internal';
          return { ok: false, error: { code, message: describeError(error) } };
        }
      },
    ]),
  ) as Record<Channel, IpcHandler>;
}

/**
 * Only the console page the gateway serves may call: a page navigated elsewhere (a link that
 * escaped, an injected frame) gets no bridge even though the preload runs there too.
 */
export function isTrustedSender(frameUrl: string | undefined, gatewayOrigin: string | undefined): boolean {
  if (!frameUrl || !gatewayOrigin) return false;
  try {
    const url = new URL(frameUrl);
    return url.origin === gatewayOrigin && url.pathname.startsWith('/app/');
  } catch {
    return false;
  }
}
