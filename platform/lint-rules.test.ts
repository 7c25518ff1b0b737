import { ESLint, type Linter } from 'eslint';
import { projectRoot } from './project-root';

/**
 * The lint rules that guard the design (eslint.config.js), checked on code that does not exist on
 * disk: the files below are linted as if they sat at these paths. They are not part of the
 * tsconfig program, so the type-aware parser opens them in a default project built from the same
 * tsconfig.json (allowDefaultProject); everything else is the project's own config.
 */
const WORKFLOW = 'workflows/lint-rules-fixture/workflow.ts';
const API_MODULE = 'api/lint-rules-fixture/module.ts';

// ESLint would load its config file with import(), which Jest's module sandbox refuses without
// --experimental-vm-modules; the config is CommonJS, so it is required here and passed in whole.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS file without types
const projectConfig = require('../eslint.config.js') as Linter.Config[];

const eslint = new ESLint({
  cwd: projectRoot(),
  overrideConfigFile: true,
  baseConfig: projectConfig,
  overrideConfig: {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['workflows/lint-rules-fixture/*.ts', 'api/lint-rules-fixture/*.ts'], defaultProject: 'tsconfig.json' },
      },
    },
  },
});

async function lint(filePath: string, code: string): Promise<{ ruleId: string | null; line: number; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.map(({ ruleId, line, message }) => ({ ruleId, line, message }));
}

const RESTRICTED = '@typescript-eslint/no-restricted-imports';

// Opening a file that the tsconfig program does not list makes TypeScript's project service
// schedule a project refresh 2.5 s later. Nothing here needs it; with real timers it would keep
// Jest waiting after the last test, so it goes to timers that are never run.
beforeAll(() => {
  jest.useFakeTimers({
    doNotFake: ['Date', 'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate'],
  });
});
afterAll(() => {
  jest.useRealTimers();
});

describe('lint rules', () => {
  it('refuses a workflow importing a Node built-in with the node: prefix', async () => {
    const messages = await lint(WORKFLOW, ["import { readFileSync } from 'node:fs';", 'export const read = readFileSync;', ''].join('\n'));
    expect(messages).toEqual([expect.objectContaining({ ruleId: RESTRICTED, line: 1, message: expect.stringContaining("'node:fs'") })]);
  });

  it('refuses a workflow importing a Node built-in without the prefix', async () => {
    const messages = await lint(WORKFLOW, ["import * as fs from 'fs';", "import { setTimeout } from 'timers/promises';", 'export const io = [fs, setTimeout];', ''].join('\n'));
    expect(messages).toEqual([
      expect.objectContaining({ ruleId: RESTRICTED, line: 1, message: expect.stringContaining("'fs'") }),
      expect.objectContaining({ ruleId: RESTRICTED, line: 2, message: expect.stringContaining("'timers/promises'") }),
    ]);
  });

  it('refuses a workflow importing a database package, and activities or model code as values', async () => {
    const messages = await lint(
      WORKFLOW,
      [
        "import { Pool } from 'pg';",
        "import { createActivities } from '../../activities';",
        "import { toAsset } from '../../model/assets';",
        'export const values = [Pool, createActivities, toAsset];',
        '',
      ].join('\n'),
    );
    expect(messages).toEqual([
      expect.objectContaining({ ruleId: RESTRICTED, line: 1, message: expect.stringContaining("'pg'") }),
      expect.objectContaining({ ruleId: RESTRICTED, line: 2, message: expect.stringContaining("'../../activities'") }),
      expect.objectContaining({ ruleId: RESTRICTED, line: 3, message: expect.stringContaining("'../../model/assets'") }),
    ]);
  });

  it('accepts a workflow importing the workflow SDK, domain rules and activities as types', async () => {
    const messages = await lint(
      WORKFLOW,
      [
        "import { proxyActivities } from '@temporalio/workflow';",
        "import type { WorkflowStartOptions } from '@temporalio/client';",
        "import type { ChangeRequestActivities } from '../../activities/change-request';",
        "import { type Asset } from '../../model/assets';",
        "import { isRiskAbove } from '../../domain/change-risk';",
        '',
        "const { assessChange } = proxyActivities<ChangeRequestActivities>({ startToCloseTimeout: '1 minute' });",
        'export async function fixtureWorkflow(asset: Asset, options: WorkflowStartOptions): Promise<boolean> {',
        '  await assessChange({} as never);',
        "  return isRiskAbove('low', 'high') && asset !== null && options !== null;",
        '}',
        '',
      ].join('\n'),
    );
    expect(messages).toEqual([]);
  });

  it('refuses a floating promise outside workflows', async () => {
    const messages = await lint(
      API_MODULE,
      ['async function send(): Promise<void> {}', '', 'export function handler(): void {', '  send();', '}', ''].join('\n'),
    );
    expect(messages).toEqual([expect.objectContaining({ ruleId: '@typescript-eslint/no-floating-promises', line: 4 })]);
  });
});
