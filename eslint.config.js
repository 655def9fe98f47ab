// Flat config. Besides the usual checks it enforces the layering of docs/architecture.md: each layer of
// src/ imports only downward; src/ never reaches electron, react or the DOM; the renderer never reaches
// Node; oauth and mcp never import each other; electron/ reaches src/ only through index.ts and the contract.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// Every Node builtin, bare and with subpaths (fs/promises, worker_threads…); node:* is a pattern below.
const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));

// Folder direction is checked on resolved paths, so it holds at any depth and for any spelling of the
// import. A zone forbids `target` files to import anything under `from`.
const layers = [
  { target: './src', from: './electron', message: 'src/ runs headless: it never depends on the Electron shell.' },
  { target: './src', from: './renderer', message: 'src/ never imports the UI.' },
  { target: './src/oauth', from: './src/mcp', message: 'oauth and mcp meet only in src/http.' },
  { target: './src/mcp', from: './src/oauth', message: 'oauth and mcp meet only in src/http.' },
  {
    target: './renderer',
    from: './src',
    except: ['./api/contract.ts'],
    message: 'The renderer reaches the core only through src/api/contract.ts.',
  },
  { target: './renderer', from: './electron', message: 'The renderer talks to main only through the preload bridge.' },
  {
    target: './electron',
    from: './src',
    except: ['./index.ts', './api/contract.ts'],
    message: 'The desktop shell reaches the core only through src/index.ts and src/api/contract.ts.',
  },
];

// The layers of src/, lowest first (docs/architecture.md, "Layers"): a file imports only from its own
// layer and those below. One zone per pair, so the message names both ends of an upward import.
const srcLayers = [
  ['shared'],
  ['store', 'config'],
  ['backends'],
  ['federation'],
  ['mcp', 'oauth', 'clients', 'tunnel'],
  ['api'],
  ['http'],
  ['index.ts', 'host.ts', 'gateway.ts', 'gateway-lifecycle.ts', 'wiring'],
  ['cli'],
];
for (const [level, names] of srcLayers.entries()) {
  for (const name of names) {
    for (const above of srcLayers.slice(level + 1).flat()) {
      layers.push({
        target: `./src/${name}`,
        from: `./src/${above}`,
        message: `src/${name} is below src/${above} (docs/architecture.md, "Layers"): it never imports upward.`,
      });
    }
  }
}
// Package bans by specifier. One rule per folder: a later flat-config block would replace, not extend,
// the options of an earlier one, so each folder gets its whole list here.
// Anchored so that only the packages match, not a relative path through a folder of the same name.
const uiPackages = '^react(-dom)?(/|$)';
const electronPackages = '^electron(-store)?(/|$)';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'release/',
      'node_modules/',
      'test-results/',
      'renderer/dist/',
      'bench/results/',
      'bench/tmp/',
      '.conformance/',
      '.inspector/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      'import-x/no-cycle': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
    settings: {
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      // Sources import './x.js' for './x.ts' (NodeNext); the alias lets no-cycle follow those edges.
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'],
          extensionAlias: { '.js': ['.ts', '.tsx', '.js'] },
        }),
      ],
    },
  },
  {
    rules: { 'import-x/no-restricted-paths': ['error', { zones: layers }] },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: electronPackages, message: 'src/ runs headless: electron belongs in electron/.' },
            { regex: uiPackages, message: 'src/ never imports the UI.' },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      // The typescript-eslint variant can let `import type` through, which is how the contract is shared.
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'No Node in the renderer.' })),
          patterns: [
            { group: ['node:*'], message: 'No Node in the renderer.' },
            { regex: electronPackages, message: 'The renderer reaches main only through the preload bridge.' },
            {
              regex: '(^|/)src/api/contract(\\.js|\\.ts)?$',
              allowTypeImports: true,
              message: 'src/api/contract.ts is shared as types only: use `import type`.',
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      'src/cli.ts',
      'src/shared/logger.ts',
      'bench/**/*.ts',
      'test/**/*.{ts,mjs}',
      'resources/**/*.mjs',
      'scripts/**/*.mjs',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-unused-vars': 'off' },
  },
);
