/**
 * Which desktop notifications to show, decided from state changes: a pure function, unit-tested in
 * Node; main.ts only hands the result to Electron's Notification. No electron import here.
 */
import type { BackendState } from './tray-menu.js';

export interface BackendSnapshot {
  name: string;
  state: BackendState;
  lastError?: string;
}

export interface DesktopNotification {
  /** Stable key, so the same event is not announced twice. */
  key: string;
  title: string;
  body: string;
}

/**
 * A backend that was ready (or degraded) and is now down is announced once; one that only ever
 * failed to start, or flaps while restarting, is not re-announced until it has been ready again.
 */
export function backendNotifications(
  previous: ReadonlyMap<string, BackendState>,
  current: readonly BackendSnapshot[],
): DesktopNotification[] {
  const out: DesktopNotification[] = [];
  for (const backend of current) {
    const before = previous.get(backend.name);
    if (backend.state === 'down' && (before === 'ready' || before === 'degraded')) {
      out.push({
        key: `down:${backend.name}`,
        title: `${backend.name} stopped working`,
        body: backend.lastError ? `${backend.lastError}. Cortex is restarting it.` : 'Cortex is restarting it.',
      });
    }
  }
  return out;
}

/**
 * A sign-in waiting for the owner's approval, with the code its browser shows: the owner approves
 * it in the console after checking that the codes match (another requester may use the same name).
 */
export function approvalNotification(request: {
  id: string;
  userCode: string;
  clientName: string;
  redirectHost: string;
  listener: 'local' | 'tunnel';
}): DesktopNotification {
  const where = request.listener === 'tunnel' ? ' through the public tunnel' : '';
  return {
    key: `approval:${request.id}`,
    title: `${request.clientName} asks for access`,
    body:
      `Code ${request.userCode}${where}; it will return to ${request.redirectHost}. ` +
      'Open Cortex to approve or deny, if the sign-in page shows the same code.',
  };
}
