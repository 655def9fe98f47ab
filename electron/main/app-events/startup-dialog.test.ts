import { describe, expect, it } from 'vitest';
import { InstanceLockedError, type InstanceLockRecord } from '../../../src/index.js';
import { startupFailureDialog } from './startup-dialog.js';

const holder = (fields: Partial<InstanceLockRecord>): InstanceLockRecord => ({
  id: 'x',
  pid: 4242,
  startedAt: '2026-12-01T10:00:00.000Z',
  app: 'cli',
  dataDir: '/home/me/.config/cortex-gateway',
  mcpUrl: 'http://127.0.0.1:3590/mcp',
  ...fields,
});
const locked = (fields: Partial<InstanceLockRecord>) =>
  new InstanceLockedError(holder(fields), '/home/me/.config/cortex-gateway');

describe('startupFailureDialog', () => {
  it('says a command-line gateway already serves the folder, where, and how to switch to the app', () => {
    const dialog = startupFailureDialog(locked({ app: 'cli' }));
    expect(dialog.title).toBe('Cortex Gateway is already running');
    expect(dialog.message).toContain('"cortex-gateway serve", pid 4242');
    expect(dialog.message).toContain('at http://127.0.0.1:3590/mcp');
    expect(dialog.message).toContain('since 2026-12-01T10:00:00.000Z');
    expect(dialog.detail).toContain('Ctrl-C in its terminal');
    expect(dialog.detail).toContain('Data folder: /home/me/.config/cortex-gateway');
  });

  it('tells apart another copy of the app, and one still starting (no URL yet)', () => {
    const dialog = startupFailureDialog(locked({ app: 'desktop', mcpUrl: undefined }));
    expect(dialog.message).toContain('Another copy of the Cortex Gateway app (pid 4242)');
    expect(dialog.message).not.toContain(' at ');
    expect(dialog.detail).toContain('Quit that copy');
  });

  it('shows any other failure as it is', () => {
    expect(startupFailureDialog(new Error('Port 3590 on 127.0.0.1 is in use'))).toEqual({
      title: 'Cortex Gateway could not start',
      message: 'Port 3590 on 127.0.0.1 is in use',
      detail: '',
    });
    expect(startupFailureDialog('odd').message).toBe('odd');
  });
});
