/**
 * The bootstrap command (`npm run admin`): on an empty database it creates the first administrator
 * and prints their key once; it refuses an email that exists, writing nothing; it gives an existing
 * person a break-glass key. Everything it writes is audited as system:admin-cli.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { principalByApiKey } from '../api/auth';
import { hasActiveAdmin } from '../model/people';
import { createDatabase, type Database } from '../platform/database';
import { runAdminCommand } from '../scripts/admin';
import { createTestDatabase, type TestDatabase } from './support/database';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

const db = () => database.db;
const KEY = /\baf_[\w-]{32}(?![\w-])/;
/** Every API key in the text. */
const keysIn = (text: string): string[] => [...text.matchAll(new RegExp(KEY, 'g'))].map((m) => m[0]);

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdminCommand(argv, { db: db(), out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const counts = async () => {
  const [people, keys, audit] = await Promise.all(['people', 'api_keys', 'audit_log'].map(async (table) => Number((await db()(table).count({ n: '*' }))[0].n)));
  return { people, keys, audit };
};

it('creates the first administrator on an empty database and prints their key once; the key opens the API as an admin', async () => {
  expect(await counts()).toEqual({ people: 0, keys: 0, audit: 0 });
  expect(await hasActiveAdmin(db())).toBe(false);

  const { code, out, err } = await run('create-admin', '--email', ' Ada.Admin@Example.com ', '--name', 'Ada Admin');
  expect({ code, err }).toEqual({ code: 0, err: '' });
  const keys = keysIn(out);
  expect(keys).toHaveLength(1);
  expect(out).toContain('Keep it safe');
  expect(out).toContain('ada.admin@example.com');

  const principal = await principalByApiKey(db(), keys[0]);
  expect(principal).toMatchObject({ email: 'ada.admin@example.com', name: 'Ada Admin', apiKeyId: expect.any(String) });
  expect([...principal!.roles].sort()).toEqual(['admin', 'requester']);
  expect(await hasActiveAdmin(db())).toBe(true);

  const key = await db()('api_keys').where({ person_id: principal!.id }).first();
  expect(key).toMatchObject({ name: 'bootstrap', created_by: 'system:admin-cli', expires_at: null, revoked_at: null });
  const audit = await db()('audit_log').orderBy('id').select('actor', 'subject_type', 'subject_id', 'action', 'details');
  expect(audit).toEqual([
    expect.objectContaining({ actor: 'system:admin-cli', subject_type: 'person', subject_id: principal!.id, action: 'person_created', details: expect.objectContaining({ after: expect.objectContaining({ email: 'ada.admin@example.com', roleGrants: [{ role: 'admin', grantedBy: 'admin' }, { role: 'requester', grantedBy: 'admin' }] }) }) }),
    expect.objectContaining({ actor: 'system:admin-cli', subject_type: 'api_key', subject_id: key.id, action: 'api_key_created', details: expect.objectContaining({ personId: principal!.id, name: 'bootstrap', prefix: key.prefix }) }),
  ]);
  expect(JSON.stringify(audit)).not.toContain(keys[0]);
});

it('refuses a second administrator with an email that exists (whatever its case), exit code 1, writing nothing', async () => {
  const before = await counts();
  const { code, out, err } = await run('create-admin', '--email', 'ADA.ADMIN@example.com', '--name', 'Another Ada');
  expect(code).toBe(1);
  expect(err).toContain('exists already');
  expect(err).toContain('create-api-key --email ada.admin@example.com');
  expect(`${out}${err}`).not.toMatch(KEY);
  expect(await counts()).toEqual(before);
});

it('gives an existing active person a break-glass key; refuses an unknown or deactivated person and a taken key name', async () => {
  const before = await counts();
  const made = await run('create-api-key', '--email', 'ada.admin@example.com', '--name', 'break-glass');
  expect(made.code).toBe(0);
  const [key, ...more] = keysIn(made.out);
  expect(more).toEqual([]);
  expect(await principalByApiKey(db(), key)).toMatchObject({ email: 'ada.admin@example.com' });
  expect(await counts()).toEqual({ people: before.people, keys: before.keys + 1, audit: before.audit + 1 });
  const row = await db()('api_keys').where({ name: 'break-glass' }).first('id', 'created_by');
  expect(await db()('audit_log').where({ subject_id: row.id }).select('actor', 'action')).toEqual([{ actor: 'system:admin-cli', action: 'api_key_created' }]);

  const [{ id: gone }] = await db()('people').insert({ email: 'gone@example.com', name: 'Gone', active: false }).returning('id');
  const after = await counts();
  for (const [email, name, says] of [
    ['nobody@example.com', 'x', 'no person has the email'],
    ['gone@example.com', 'x', 'deactivated'],
    ['ada.admin@example.com', 'BREAK-GLASS', 'not revoked'],
  ]) {
    const refused = await run('create-api-key', '--email', email, '--name', name);
    expect({ email, code: refused.code }).toEqual({ email, code: 1 });
    expect(refused.err).toContain(says);
    expect(refused.out).not.toMatch(KEY);
  }
  expect(await counts()).toEqual(after);
  expect(await db()('api_keys').where({ person_id: gone }).count({ n: '*' })).toEqual([{ n: 0 }]);
});

it('answers --help, an unknown command and missing options with the usage and exit code 2', async () => {
  const before = await counts();
  for (const argv of [['--help'], [], ['frobnicate'], ['create-admin', '--email', 'x@example.com'], ['create-admin', '--email', 'not-an-email', '--name', 'X'], ['create-admin', '--emial', 'x@example.com']]) {
    const answer = await run(...argv);
    expect({ argv, code: answer.code }).toEqual({ argv, code: 2 });
    expect(answer.out).toContain('Usage: npm run admin -- <command>');
  }
  expect(await counts()).toEqual(before);
});

describe('the script itself', () => {
  let blank: { name: string; url: string; db: Database };
  let hook: string;

  /** A database with nothing in it, not even the migrations. */
  async function blankDatabase() {
    const name = `assetflow_blank_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.end());
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = `/${name}`;
    return { name, url: url.toString(), db: createDatabase(url.toString(), 2) };
  }

  beforeAll(async () => {
    blank = await blankDatabase();
    // Runs scripts/admin.ts as node runs the compiled script, compiling each TypeScript module as it is required.
    hook = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'assetflow-admin-cli-')), 'ts-hook.js');
    fs.writeFileSync(hook, `const fs = require('node:fs');
const ts = require(${JSON.stringify(require.resolve('typescript'))});
require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: filename,
  });
  module._compile(outputText, filename);
};
`);
  });

  afterAll(async () => {
    await blank?.db.destroy();
    if (blank) {
      const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${blank.name} WITH (FORCE)`).finally(() => admin.end());
    }
    if (hook) fs.rmSync(path.dirname(hook), { recursive: true, force: true });
  });

  function script(...argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-r', hook, path.join(__dirname, '..', 'scripts', 'admin.ts'), ...argv], {
        env: { PATH: process.env.PATH, DATABASE_URL: blank.url, LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.once('error', reject);
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('migrates a blank DATABASE_URL and creates the administrator; the key is on stdout once; a second run exits 1 and prints no key', async () => {
    const first = await script('create-admin', '--email', 'grace@example.org', '--name', 'Grace Hopper');
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    const keys = keysIn(first.stdout);
    expect(keys).toHaveLength(1);
    expect(await principalByApiKey(blank.db, keys[0])).toMatchObject({ email: 'grace@example.org', roles: expect.arrayContaining(['admin']) });
    expect(Number((await blank.db('knex_migrations').count({ n: '*' }))[0].n)).toBeGreaterThan(20);

    const second = await script('create-admin', '--email', 'grace@example.org', '--name', 'Grace Hopper');
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('exists already');
    expect(`${second.stdout}${second.stderr}`).not.toMatch(KEY);
    expect(Number((await blank.db('people').count({ n: '*' }))[0].n)).toBe(1);

    const usage = await script('--help');
    expect(usage.code).toBe(2);
    expect(usage.stdout).toContain('create-api-key --email <email> --name <key name>');
  });
});
