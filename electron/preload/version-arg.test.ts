import { describe, expect, it } from 'vitest';
import { VERSION } from '../../src/index.js';
import { versionArgument, versionFromArgv } from './version-arg.js';

describe('version handed to the preload', () => {
  it('reads back the version main put on the renderer command line', () => {
    const argv = ['/opt/electron', '--type=renderer', versionArgument(VERSION), '--enable-sandbox'];
    expect(versionFromArgv(argv)).toBe(VERSION);
  });

  it('is empty when main passed none', () => {
    expect(versionFromArgv(['/opt/electron', '--type=renderer'])).toBe('');
  });
});
