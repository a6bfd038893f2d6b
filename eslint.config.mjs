// Lint rules. Workflow code runs in Temporal's deterministic sandbox: it must not import
// Node builtins or I/O libraries, and every promise it creates must be awaited or handled.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.tools/**',
      'data/**',
      'coverage/**',
      '*.config.js',
      '*.mjs',
      'test/support/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The workflow bundle and what it imports (src/domain) must stay deterministic and small.
    files: ['src/workflows/**/*.ts', 'src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflow code must not use Node builtins (non-deterministic I/O).',
            })),
            {
              name: '@temporalio/activity',
              message: 'Activities are not callable from workflow code; use proxyActivities.',
            },
            { name: '@temporalio/client', message: 'Workflow code must not use the client.' },
            { name: '@temporalio/worker', message: 'Workflow code must not use the worker.' },
            {
              name: 'zod',
              message: 'Keep zod out of the workflow bundle; validate at the edges (src/config, src/api).',
            },
            { name: 'execa', message: 'No processes from workflow code.' },
          ],
          patterns: [
            {
              group: ['**/activities/**', '**/api/**', '**/config/**', '**/cli/**'],
              message: 'Workflow code may import only src/domain and src/workflows.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop.' },
        { name: 'process', message: 'No process access in workflow code.' },
      ],
    },
  },
);
