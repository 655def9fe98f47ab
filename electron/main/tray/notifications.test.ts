import { describe, expect, it } from 'vitest';
import { approvalNotification, backendNotifications } from './notifications.js';
import type { BackendState } from './tray-menu.js';

const before = (entries: Record<string, BackendState>) => new Map(Object.entries(entries));

describe('backendNotifications', () => {
  it('announces a backend that was ready and went down, with its last error', () => {
    expect(
      backendNotifications(before({ gh: 'ready' }), [{ name: 'gh', state: 'down', lastError: 'process exited' }]),
    ).toEqual([{ key: 'down:gh', title: 'gh stopped working', body: 'process exited. Cortex is restarting it.' }]);
  });

  it('announces a degraded backend that went down', () => {
    expect(backendNotifications(before({ gh: 'degraded' }), [{ name: 'gh', state: 'down' }])).toHaveLength(1);
  });

  it('stays quiet for a backend that never started or keeps failing to restart', () => {
    expect(backendNotifications(before({ gh: 'connecting' }), [{ name: 'gh', state: 'down' }])).toEqual([]);
    expect(backendNotifications(before({ gh: 'down' }), [{ name: 'gh', state: 'down' }])).toEqual([]);
  });

  it('stays quiet when a backend recovers or is disabled', () => {
    expect(backendNotifications(before({ gh: 'down' }), [{ name: 'gh', state: 'ready' }])).toEqual([]);
    expect(backendNotifications(before({ gh: 'ready' }), [{ name: 'gh', state: 'disabled' }])).toEqual([]);
  });
});

describe('approvalNotification', () => {
  it('names the client, the code to compare and where it returns to', () => {
    expect(
      approvalNotification({
        id: 'r1',
        userCode: 'WDJB-MJHT',
        clientName: 'Claude',
        redirectHost: 'claude.ai',
        listener: 'tunnel',
      }),
    ).toEqual({
      key: 'approval:r1',
      title: 'Claude asks for access',
      body:
        'Code WDJB-MJHT through the public tunnel; it will return to claude.ai. ' +
        'Open Cortex to approve or deny, if the sign-in page shows the same code.',
    });
  });

  it('does not mention the tunnel for a sign-in on this machine', () => {
    const note = approvalNotification({
      id: 'r2',
      userCode: 'BCDF-GHJK',
      clientName: 'Cursor',
      redirectHost: 'cursor:',
      listener: 'local',
    });
    expect(note.body).toMatch(/^Code BCDF-GHJK; it will return to cursor:\./);
  });
});
