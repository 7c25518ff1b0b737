/**
 * The watched inventory folder with a real worker: a file dropped in <dir>/discovery/ becomes a
 * batch keyed by the file's name, size and modification time and moves to done/; the same file
 * dropped again is the same batch, answered with a .replayed.txt naming it, while a new export
 * under the same name is a new batch; a file with a bad header moves to failed/ beside the refusal
 * in words, and so does a file in manual/ when the person batches are recorded as is no admin; a
 * person who may not send batches leaves the folder unwatched.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { watchInventoryDropFolder } from '../api/inventory-intake';
import { droppedFileBatchKey } from '../domain/inventory-intake';
import { createLogger } from '../platform/logger';
import type { InventoryDropFolder } from '../platform/inventory-drop-folder';
import { createPerson, eventually, type TestPerson } from './support/fixtures';
import { startStack, type Stack } from './support/stack';

let stack: Stack;
let sender: TestPerson;
let dir: string;
let folder: InventoryDropFolder | undefined;

const logger = createLogger('silent', 'test');
const unique = () => randomBytes(4).toString('hex');

beforeAll(async () => {
  stack = await startStack();
  sender = await createPerson(stack.database.db, ['asset_manager'], 'Dora Drop');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetflow-drop-'));
  folder = await watchInventoryDropFolder({ db: stack.database.db, temporal: stack.env.client, taskQueue: stack.taskQueue, logger }, { dir, as: sender.email, everyMs: 100 });
});

afterAll(async () => {
  await folder?.stop();
  await stack?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const at = (...parts: string[]) => path.join(dir, ...parts);
const exists = (file: string) => fs.existsSync(file);
const batchesOf = (fileName: string) => stack.database.db('imports').where({ source: 'discovery', file_name: fileName }).orderBy('created_at')
  .select('id', 'state', 'batch_key', 'requested_by_id', 'rows_total');
const doneFiles = (name: string) => fs.readdirSync(at('discovery', 'done')).filter((file) => file.endsWith(name)).sort();
const vm = (s: string) => JSON.stringify({ ciClass: 'virtual_machine', cloudResourceId: `d-${s}`, hostname: `drop-${s}` });

it('watches the source folders it made', () => {
  expect(folder).toBeDefined();
  for (const source of ['discovery', 'mdm', 'cloud_inventory', 'hr', 'manual']) expect(exists(at(source))).toBe(true);
});

it('receives a dropped file as a batch keyed by its name, size and time; the same file again is that batch, said so in done/; a new export of the name is a new batch', async () => {
  const s = unique();
  const name = `scan-${s}.jsonl`;
  const firstDay = new Date('2026-11-28T06:00:00.250Z');
  fs.writeFileSync(at('discovery', name), `${vm(`${s}a`)}\n${vm(`${s}b`)}\n`);
  fs.utimesSync(at('discovery', name), firstDay, firstDay);
  await eventually(async () => exists(at('discovery', 'done', name)), 30_000, 50);
  expect(exists(at('discovery', name))).toBe(false);
  const [batch] = await batchesOf(name);
  const size = fs.statSync(at('discovery', 'done', name)).size;
  expect(batch).toMatchObject({ requested_by_id: sender.id, rows_total: 2, batch_key: droppedFileBatchKey(name, size, firstDay) });
  await eventually(async () => (await batchesOf(name))[0].state === 'completed', 60_000, 100);
  expect(await stack.database.db('configuration_items').where({ cloud_resource_id: `d-${s}b` }).first('discovery_state')).toEqual({ discovery_state: 'discovered' });
  expect(exists(at('discovery', 'done', `${name}.replayed.txt`))).toBe(false);

  // The same file dropped again (a copy keeping its time): the batch it repeats, never silently.
  fs.copyFileSync(at('discovery', 'done', name), at('discovery', name));
  fs.utimesSync(at('discovery', name), firstDay, firstDay);
  await eventually(async () => doneFiles(`${name}.replayed.txt`).length === 1, 30_000, 50);
  const [replayed] = doneFiles(`${name}.replayed.txt`);
  expect(exists(at('discovery', 'done', replayed.replace(/\.replayed\.txt$/, '')))).toBe(true);
  expect(fs.readFileSync(at('discovery', 'done', replayed), 'utf8'))
    .toMatch(new RegExp(`^${name.replace('.', '\\.')} repeats batch ${batch.id}, received at .+ \\(now completed\\): the same file \\(the same name, size and modification time\\)`));
  expect(await batchesOf(name)).toEqual([expect.objectContaining({ id: batch.id })]);

  // The next day's export under the same name: a new batch.
  const nextDay = new Date('2026-11-29T06:00:00.250Z');
  const export2 = `${vm(`${s}a`)}\n${vm(`${s}b`)}\n${vm(`${s}c`)}\n`;
  fs.writeFileSync(at('discovery', name), export2);
  fs.utimesSync(at('discovery', name), nextDay, nextDay);
  // The batch row is there from the start of the upload; its rows count once the file is staged.
  await eventually(async () => (await batchesOf(name))[1]?.rows_total === 3, 30_000, 50);
  const [, next] = await batchesOf(name);
  expect(next).toMatchObject({ rows_total: 3, batch_key: droppedFileBatchKey(name, Buffer.byteLength(export2), nextDay) });
  await eventually(async () => doneFiles(name).length === 3, 30_000, 50);
  expect(doneFiles(`${name}.replayed.txt`)).toHaveLength(1);
});

it('receives a gzipped CSV file', async () => {
  const s = unique();
  const name = `cmdb-${s}.csv.gz`;
  fs.writeFileSync(at('discovery', name), gzipSync(`ciClass,cloudResourceId,hostname\nvirtual_machine,d-${s},drop-${s}\n`));
  await eventually(async () => exists(at('discovery', 'done', name)), 30_000, 50);
  expect(await batchesOf(name)).toEqual([expect.objectContaining({ rows_total: 1 })]);
});

it('moves a file with a bad header to failed/ beside the refusal in words, and keeps nothing of it', async () => {
  const name = `bad-${unique()}.csv`;
  fs.writeFileSync(at('discovery', name), 'ciClass,hostname,colour\nserver,h1,red\n');
  await eventually(async () => exists(at('discovery', 'failed', `${name}.error.txt`)), 30_000, 50);
  expect(exists(at('discovery', 'failed', name))).toBe(true);
  const reason = fs.readFileSync(at('discovery', 'failed', `${name}.error.txt`), 'utf8');
  expect(reason).toMatch(new RegExp(`^${name.replace('.', '\\.')} was not taken: unknown column\\(s\\) "colour"`));
  expect(reason).toMatch(/The columns an inventory file may have: ciClass, name, serialNumber/);
  expect(await batchesOf(name)).toEqual([]);
});

it('refuses a file in manual/ when the person batches are recorded as is no admin, saying so beside it in failed/', async () => {
  const name = `manual-${unique()}.jsonl`;
  fs.writeFileSync(at('manual', name), `${vm(unique())}\n`);
  await eventually(async () => exists(at('manual', 'failed', `${name}.error.txt`)), 30_000, 50);
  expect(exists(at('manual', 'failed', name))).toBe(true);
  expect(fs.readFileSync(at('manual', 'failed', `${name}.error.txt`), 'utf8'))
    .toMatch(new RegExp(`^${name.replace('.', '\\.')} was not taken: only admins send batches as manual: manual and hr outrank the feeds`));
  expect(await stack.database.db('imports').where({ file_name: name }).select('id')).toEqual([]);
});

it('leaves other files and folders alone', async () => {
  fs.writeFileSync(at('discovery', 'notes.txt'), 'not a batch');
  fs.mkdirSync(at('spreadsheets'), { recursive: true });
  fs.writeFileSync(at('spreadsheets', 'x.csv'), 'ciClass,hostname\nserver,h\n');
  const name = `after-${unique()}.jsonl`;
  fs.writeFileSync(at('discovery', name), `${vm(unique())}\n`);
  await eventually(async () => exists(at('discovery', 'done', name)), 30_000, 50);
  expect(exists(at('discovery', 'notes.txt'))).toBe(true);
  expect(exists(at('spreadsheets', 'x.csv'))).toBe(true);
});

it('stays unwatched when the person batches are recorded as may not send them', async () => {
  const requester = await createPerson(stack.database.db, ['requester'], 'Rita Requester');
  const other = fs.mkdtempSync(path.join(os.tmpdir(), 'assetflow-drop-'));
  try {
    const deps = { db: stack.database.db, temporal: stack.env.client, taskQueue: stack.taskQueue, logger };
    expect(await watchInventoryDropFolder(deps, { dir: other, as: requester.email, everyMs: 100 })).toBeUndefined();
    expect(await watchInventoryDropFolder(deps, { dir: other, as: 'nobody@nowhere.example', everyMs: 100 })).toBeUndefined();
    expect(fs.readdirSync(other)).toEqual([]);
  } finally {
    fs.rmSync(other, { recursive: true, force: true });
  }
});
