import { describe, expect, it } from 'vitest';
import { ActivityLog } from './activity.js';

const caller = { clientId: 'c1', clientName: 'Claude', tool: 'files__read', backend: 'files' };

describe('ActivityLog', () => {
  it('records argument names only by default', () => {
    const log = new ActivityLog({ now: () => 1000 });
    log.start({ ...caller, args: { path: '/home/me/diary.txt' } })('ok');
    const [entry] = log.list();
    expect(entry).toMatchObject({ id: 1000, at: 1000, outcome: 'ok', argumentKeys: ['path'], clientName: 'Claude' });
    expect(JSON.stringify(entry)).not.toContain('diary');
  });

  it('records values when asked, with secret-looking fields redacted', () => {
    const log = new ActivityLog({ recordArguments: true });
    log.start({ ...caller, args: { path: '/tmp/x', apiKey: 'sk-123', nested: { token: 't' } } })('ok');
    expect(log.list()[0]!.arguments).toEqual({ path: '/tmp/x', apiKey: '[redacted]', nested: { token: '[redacted]' } });
  });

  it('keeps the newest entries within capacity, newest first', () => {
    const log = new ActivityLog({ capacity: 3 });
    for (let i = 0; i < 5; i++) log.start({ ...caller, tool: `t${i}` })('ok');
    expect(log.list().map((e) => e.tool)).toEqual(['t4', 't3', 't2']);
  });

  it('filters by id, client, tool and outcome', () => {
    const log = new ActivityLog({ now: () => 1 });
    log.start(caller)('ok');
    log.start({ ...caller, clientId: 'c2' })('error', 'boom');
    log.start({ ...caller, tool: 'mail__send' })('refused', 'needs mcp:mail:write');
    expect(log.list({ after: 1 }).map((e) => e.id)).toEqual([3, 2]);
    expect(log.list({ clientId: 'c2' })).toMatchObject([{ outcome: 'error', error: 'boom' }]);
    expect(log.list({ tool: 'mail' }).map((e) => e.id)).toEqual([3]);
    expect(log.list({ outcome: 'refused' }).map((e) => e.id)).toEqual([3]);
  });

  it('announces each entry', () => {
    const log = new ActivityLog();
    const seen: string[] = [];
    log.on('entry', (e) => seen.push(e.tool));
    log.start(caller)('ok');
    expect(seen).toEqual(['files__read']);
  });
});
