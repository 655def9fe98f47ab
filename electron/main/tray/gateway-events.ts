/**
 * The tray and the notifications follow the gateway's events: no polling. Types only: Node tests
 * emit the gateway's events themselves.
 */
import type { Gateway } from '../../../src/index.js';
import { approvalNotification, backendNotifications } from './notifications.js';
import type { TrayState } from './tray-menu.js';

export interface GatewayEventsDeps {
  notify: (title: string, body: string) => void;
  show: (next: Partial<TrayState>) => void;
  /** What the tray shows now. */
  current: () => TrayState;
  /** How many sign-ins wait in the owner's approval list now. */
  pendingApprovals: () => number;
}

export function followGatewayEvents(
  gateway: Pick<Gateway, 'events' | 'backendStatuses'>,
  deps: GatewayEventsDeps,
): void {
  const { notify, show } = deps;
  let lastStates = new Map<string, TrayState['backends'][number]['state']>();
  gateway.events.on('backend-state', () => {
    const backends = gateway.backendStatuses();
    for (const note of backendNotifications(lastStates, backends)) notify(note.title, note.body);
    lastStates = new Map(backends.map((b) => [b.name, b.state]));
    show({ backends });
  });
  gateway.events.on('paused', (paused) => show({ gateway: paused ? 'paused' : 'running' }));
  // Sign-ins wait in the owner's approval list: say so, with the code to compare, and count them in the tray.
  const pendingCount = deps.pendingApprovals;
  gateway.events.on('consent-requested', (request) => {
    const note = approvalNotification(request);
    notify(note.title, note.body);
    show({ pendingApprovals: pendingCount() });
  });
  gateway.events.on('approvals-changed', () => {
    if (deps.current().pendingApprovals !== pendingCount()) show({ pendingApprovals: pendingCount() });
  });
}
