import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/gateway.js';

/**
 * The layer rules of docs/architecture.md are enforced by eslint.config.js (import zones on resolved
 * paths). These lint one import as if it stood in a real file of the tree, so each case fails when its
 * zone is missing, and the allowed direction proves the zones do not refuse everything.
 */
const eslint = new ESLint({ cwd: ROOT });

async function zoneErrors(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${ROOT}/${file}` });
  return result!.messages.filter((m) => m.ruleId === 'import-x/no-restricted-paths').map((m) => m.message);
}

describe('layers (eslint import zones)', () => {
  it.each([
    ['src/shared/probe.ts', "import { writeFileAtomic } from '../store/atomic.js';", 'src/shared is below src/store'],
    ['src/backends/probe.ts', "import type { ToolView } from '../api/contract.js';", 'src/backends is below src/api'],
    ['src/federation/probe.ts', "import { createGateway } from '../index.js';", 'src/federation is below src/index.ts'],
    ['src/oauth/probe.ts', "import { errorHandler } from '../http/errors.js';", 'src/oauth is below src/http'],
    ['src/oauth/probe.ts', "import { McpEndpoint } from '../mcp/endpoint.js';", 'oauth and mcp meet only in src/http'],
    ['src/http/probe.ts', "import { main } from '../cli/main.js';", 'src/http is below src/cli'],
    ['electron/main/probe.ts', "import { VERSION } from '../../src/version.js';", 'only through src/index.ts'],
    [
      'renderer/src/probe.ts',
      "import { createGateway } from '../../src/index.js';",
      'only through src/api/contract.ts',
    ],
  ])('refuses an upward import in %s', async (file, source, reason) => {
    const errors = await zoneErrors(file, source);
    expect(errors.join('\n')).toContain(reason);
  });

  it.each([
    ['src/http/probe.ts', "import { createConsoleApi } from '../api/service.js';"],
    ['src/api/probe.ts', "import { BackendPool } from '../backends/pool.js';"],
    ['src/cli/probe.ts', "import { createGateway } from '../index.js';"],
    ['electron/main/probe.ts', "import { createGateway } from '../../src/index.js';"],
  ])('allows a downward import in %s', async (file, source) => {
    expect(await zoneErrors(file, source)).toEqual([]);
  });
});
