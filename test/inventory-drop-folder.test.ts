/**
 * The watched inventory folder with a real worker: a file dropped in <dir>/discovery/ becomes a
 * batch whose key is the file's name and moves to done/; a file with a bad header moves to failed/
 * beside the refusal in words; the same name dropped again is the same batch; a person who may not
 * send batches leaves the folder unwatched; a stop while nothing is in hand is clean.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { watchInventoryDropFolder } from '../api/inventory-intake';
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
const batchesNamed = (batchKey: string) => stack.database.db('imports').where({ source: 'discovery', batch_key: batchKey }).select('id', 'state', 'requested_by_id', 'rows_total');
const vm = (s: string) => JSON.stringify({ ciClass: 'virtual_machine', cloudResourceId: `d-${s}`, hostname: `drop-${s}` });

it('watches the source folders it made', () => {
  expect(folder).toBeDefined();
  for (const source of ['discovery', 'mdm', 'cloud_inventory', 'hr', 'manual']) expect(exists(at(source))).toBe(true);
});

it('receives a dropped file as a batch named by the file, moves it to done/, and takes the same name again as the same batch', async () => {
  const s = unique();
  const name = `scan-${s}.jsonl`;
  fs.writeFileSync(at('discovery', name), `${vm(`${s}a`)}\n${vm(`${s}b`)}\n`);
  await eventually(async () => exists(at('discovery', 'done', name)), 30_000, 50);
  expect(exists(at('discovery', name))).toBe(false);
  const [batch] = await batchesNamed(name);
  expect(batch).toMatchObject({ requested_by_id: sender.id, rows_total: 2 });
  await eventually(async () => (await batchesNamed(name))[0].state === 'completed', 60_000, 100);
  expect(await stack.database.db('configuration_items').where({ cloud_resource_id: `d-${s}b` }).first('discovery_state')).toEqual({ discovery_state: 'discovered' });

  fs.writeFileSync(at('discovery', name), `${vm(`${s}a`)}\n${vm(`${s}b`)}\n${vm(`${s}c`)}\n`);
  await eventually(async () => fs.readdirSync(at('discovery', 'done')).filter((file) => file.endsWith(name)).length === 2, 30_000, 50);
  expect(await batchesNamed(name)).toEqual([expect.objectContaining({ id: batch.id, rows_total: 2 })]);
});

it('receives a gzipped CSV file', async () => {
  const s = unique();
  const name = `cmdb-${s}.csv.gz`;
  fs.writeFileSync(at('discovery', name), gzipSync(`ciClass,cloudResourceId,hostname\nvirtual_machine,d-${s},drop-${s}\n`));
  await eventually(async () => exists(at('discovery', 'done', name)), 30_000, 50);
  expect(await batchesNamed(name)).toEqual([expect.objectContaining({ rows_total: 1 })]);
});

it('moves a file with a bad header to failed/ beside the refusal in words, and keeps nothing of it', async () => {
  const name = `bad-${unique()}.csv`;
  fs.writeFileSync(at('discovery', name), 'ciClass,hostname,colour\nserver,h1,red\n');
  await eventually(async () => exists(at('discovery', 'failed', `${name}.error.txt`)), 30_000, 50);
  expect(exists(at('discovery', 'failed', name))).toBe(true);
  const reason = fs.readFileSync(at('discovery', 'failed', `${name}.error.txt`), 'utf8');
  expect(reason).toMatch(new RegExp(`^${name.replace('.', '\\.')} was not taken: unknown column\\(s\\) "colour"`));
  expect(reason).toMatch(/The columns an inventory file may have: ciClass, name, serialNumber/);
  expect(await batchesNamed(name)).toEqual([]);
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
