import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { BackendStatus, PendingConsentView } from '../../../src/api/contract.js';
import type { GatewayEvents } from '../../../src/index.js';
import { followGatewayEvents } from './gateway-events.js';
import type { TrayState } from './tray-menu.js';

const backend = (state: BackendStatus['state']): BackendStatus => ({
  name: 'memory',
  id: 'memory',
  kind: 'stdio',
  state,
  since: 0,
  restartCount: 0,
  toolCount: 3,
  promptCount: 0,
  resourceCount: 0,
});

const consent: PendingConsentView = {
  id: 'c1',
  userCode: 'WDJB-MJHT',
  clientId: 'client-1',
  clientName: 'Claude',
  clientSource: 'dcr',
  redirectHost: 'claude.ai',
  requestedScopes: [],
  suggestedScopes: [],
  listener: 'tunnel',
  origin: 'https://x.trycloudflare.com',
  createdAt: 0,
};

function setUp() {
  const events = new EventEmitter<GatewayEvents>();
  let statuses: BackendStatus[] = [];
  let pending = 0;
  let state: TrayState = { gateway: 'running', backends: [] };
  const seen = { notes: [] as string[], shows: 0 };
  followGatewayEvents(
    { events, backendStatuses: () => statuses },
    {
      notify: (title) => seen.notes.push(title),
      show: (next) => ((state = { ...state, ...next }), seen.shows++),
      current: () => state,
      pendingApprovals: () => pending,
    },
  );
  return {
    events,
    seen,
    state: () => state,
    setStatuses: (next: BackendStatus[]) => (statuses = next),
    setPending: (next: number) => (pending = next),
  };
}

describe('tray following the gateway events', () => {
  it('shows backend states and announces a server that stopped working once', () => {
    const t = setUp();
    t.setStatuses([backend('ready')]);
    t.events.emit('backend-state', backend('ready'));
    t.setStatuses([backend('down')]);
    t.events.emit('backend-state', backend('down'));
    t.events.emit('backend-state', backend('down'));
    expect(t.state().backends.map((b) => b.state)).toEqual(['down']);
    expect(t.seen.notes).toEqual(['memory stopped working']);
  });

  it('shows the gateway paused and resumed', () => {
    const t = setUp();
    t.events.emit('paused', true);
    expect(t.state().gateway).toBe('paused');
    t.events.emit('paused', false);
    expect(t.state().gateway).toBe('running');
  });

  it('announces a sign-in waiting for approval and recounts the list on each change', () => {
    const t = setUp();
    t.setPending(1);
    t.events.emit('consent-requested', consent);
    expect(t.seen.notes).toEqual(['Claude asks for access']);
    expect(t.state().pendingApprovals).toBe(1);
    const shows = t.seen.shows;
    t.events.emit('approvals-changed');
    expect(t.seen.shows).toBe(shows); // same count: the menu is not rebuilt
    t.setPending(0);
    t.events.emit('approvals-changed');
    expect(t.state().pendingApprovals).toBe(0);
  });
});
