import { describe, expect, it } from 'vitest';
import { ngrokError, parseNgrokUrl } from './ngrok.js';

// Lines as the ngrok v3 agent prints them with `--log stdout --log-format json`.
const STARTED =
  '{"addr":"http://127.0.0.1:43123","lvl":"info","msg":"started tunnel","name":"command_line","obj":"tunnels","t":"2026-11-25T12:00:01.2+00:00","url":"https://1a2b-203-0-113-5.ngrok-free.app"}';

describe('parseNgrokUrl', () => {
  it('finds the public URL in the "started tunnel" entry', () => {
    expect(parseNgrokUrl(STARTED)).toBe('https://1a2b-203-0-113-5.ngrok-free.app');
  });

  it('ignores other entries that carry an address', () => {
    expect(
      parseNgrokUrl(
        '{"addr":"127.0.0.1:4040","lvl":"info","msg":"starting web service","obj":"web","url":"http://127.0.0.1:4040"}',
      ),
    ).toBeUndefined();
  });

  it('does not take a tcp:// or http:// tunnel', () => {
    expect(parseNgrokUrl(STARTED.replace('https://', 'tcp://'))).toBeUndefined();
    expect(parseNgrokUrl(STARTED.replace('https://', 'http://'))).toBeUndefined();
  });

  it('ignores text and broken JSON', () => {
    expect(parseNgrokUrl('t=2026 lvl=info msg="started tunnel" url=https://a.ngrok-free.app')).toBeUndefined();
    expect(parseNgrokUrl('{"msg":"started tunnel","url":')).toBeUndefined();
  });
});

describe('ngrokError', () => {
  it('reads an error entry as message and cause', () => {
    expect(
      ngrokError('{"err":"authentication failed: ERR_NGROK_4018","lvl":"eror","msg":"failed to reconnect session"}'),
    ).toBe('failed to reconnect session: authentication failed: ERR_NGROK_4018');
  });

  it("reads the agent's plain ERROR: text", () => {
    expect(
      ngrokError('ERROR:  authentication failed: Usage of ngrok requires a verified account and authtoken.'),
    ).toContain('authentication failed');
  });

  it('is undefined for informational entries', () => {
    expect(ngrokError(STARTED)).toBeUndefined();
  });
});
