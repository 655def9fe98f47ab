// Flat config. Besides the usual checks it enforces the layering of DESIGN.md: src/ never reaches
// electron, react or the DOM; the renderer never reaches Node; oauth and mcp never import each other.
import js from '@eslint/js';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'fs',
  'fs/promises',
  'path',
  'os',
  'child_process',
  'crypto',
  'http',
  'https',
  'net',
  'stream',
  'url',
  'util',
  'events',
  'zlib',
];

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
    files: ['src/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'src/ runs headless: electron belongs in electron/.' },
            { name: 'react', message: 'src/ never imports the UI.' },
            { name: 'react-dom', message: 'src/ never imports the UI.' },
          ],
          patterns: [{ group: ['**/electron/**', '**/renderer/**'], message: 'src/ does not depend on the shells.' }],
        },
      ],
    },
  },
  {
    files: ['src/oauth/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/mcp/**', '../mcp/*'], message: 'oauth and mcp meet only in src/http.' }] },
      ],
    },
  },
  {
    files: ['src/mcp/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/oauth/**', '../oauth/*'], message: 'oauth and mcp meet only in src/http.' }] },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'The renderer reaches the core only through src/api/contract.ts.' },
            ...nodeBuiltins.map((name) => ({ name, message: 'No Node in the renderer.' })),
          ],
          patterns: [
            { group: ['node:*'], message: 'No Node in the renderer.' },
            {
              group: ['**/src/**', '!**/src/api/contract', '!**/src/api/contract.js'],
              message: 'Only src/api/contract.ts (types) is shared with the renderer.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli.ts', 'bench/**/*.ts', 'test/**/*.{ts,mjs}', 'resources/**/*.mjs', 'scripts/**/*.mjs'],
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
