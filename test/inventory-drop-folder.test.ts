/**
 * The watched inventory folder with a real worker: a file dropped in <dir>/discovery/ becomes a
 * batch keyed by the file's name, size and modification time and moves to done/; the same file
 * dropped again is the same batch, answered with a .replayed.txt naming it, while a new export
 * under the same name is a new batch; a file with a bad header moves to failed/ beside the refusal
 * in words, and so does a file in manual/ when the person batches are recorded as is no admin; a
 * person who may not send batches leaves the folder unwatched. The drop folder itself (with the cost
 * folder's receiver faked): why files wait is logged once while it holds; a 5xx is tried again,
 * then failed; files a dead process left in processing/ are put back once, those of another
 * process only named.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { watchInventoryDropFolder } from '../api/inventory-intake';
import { droppedFileBatchKey } from '../domain/inventory-intake';
import { createLogger } from '../platform/logger';
import { CostDropFolder, type ReceivedCostFile } from '../platform/cost-drop-folder';
import { DROP_ATTEMPTS } from '../platform/drop-folder';
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

describe('the drop folder itself', () => {
  interface Line { level: number; msg: string; [field: string]: unknown }
  const WARN = 40;

  /** A cost drop folder in a folder of its own, its log kept, its receiver faked. */
  function costFolder(receive: (name: string, bytes: string) => Promise<ReceivedCostFile>, whyNot?: () => Promise<string | undefined>, everyMs = 20) {
    const lines: Line[] = [];
    const destination = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString()) as Line); done(); } });
    const folderDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assetflow-cost-drop-'));
    const folder = new CostDropFolder({
      dir: folderDir, everyMs, logger: createLogger('info', 'test', destination), whyNot,
      receive: async ({ name, stream }) => {
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        return receive(name, Buffer.concat(chunks).toString());
      },
    });
    return { folder, dir: folderDir, lines, at: (...parts: string[]) => path.join(folderDir, ...parts) };
  }
  const imported = async (): Promise<ReceivedCostFile> => ({ number: `CIM${unique()}`, state: 'completed', createdAt: new Date().toISOString(), repeated: false });

  it('logs why files wait once while it holds, says when they are taken again, and logs a new reason once', async () => {
    let reason: string | undefined = 'COST_DROP_AS names nobody';
    let asked = 0;
    const received: string[] = [];
    const drop = costFolder(async (name) => { received.push(name); return imported(); }, async () => { asked += 1; return reason; });
    const waits = (why: string) => drop.lines.filter((line) => line.level === WARN && line.msg === `cost drop folder: no file is taken: ${why}`);
    try {
      fs.writeFileSync(drop.at('a.csv'), 'BilledCost\n1\n');
      await drop.folder.start();
      await eventually(async () => asked >= 5, 10_000, 10);
      expect(waits('COST_DROP_AS names nobody')).toHaveLength(1);
      expect(received).toEqual([]);

      reason = undefined;
      await eventually(async () => received.includes('a.csv'), 10_000, 10);
      expect(drop.lines.filter((line) => line.msg === 'cost drop folder: files are taken again')).toHaveLength(1);

      reason = 'COST_DROP_AS names d@example.com, who is not active';
      fs.writeFileSync(drop.at('b.csv'), 'BilledCost\n2\n');
      const before = asked;
      await eventually(async () => asked >= before + 5, 10_000, 10);
      expect(waits(reason)).toHaveLength(1);
      expect(received).toEqual(['a.csv']);
    } finally {
      await drop.folder.stop();
      fs.rmSync(drop.dir, { recursive: true, force: true });
    }
  });

  it('tries a file that fails for now (a 5xx) again at the next looks, then fails it saying how often; a refusal (4xx) fails it at once', async () => {
    const tries = new Map<string, number>();
    const drop = costFolder(async (name) => {
      tries.set(name, (tries.get(name) ?? 0) + 1);
      if (name === 'refused.csv') throw Object.assign(new Error('not a FOCUS file: BilledCost is missing'), { status: 422 });
      if ((tries.get(name) ?? 0) < DROP_ATTEMPTS || name === 'never.csv') throw Object.assign(new Error('the database is away'), { status: 503 });
      return imported();
    });
    try {
      for (const name of ['flaky.csv', 'never.csv', 'refused.csv']) fs.writeFileSync(drop.at(name), 'BilledCost\n1\n');
      await drop.folder.start();
      await eventually(async () => fs.existsSync(drop.at('done', 'flaky.csv')) && fs.existsSync(drop.at('failed', 'never.csv.error.txt')) && fs.existsSync(drop.at('failed', 'refused.csv.error.txt')), 10_000, 10);
      expect(Object.fromEntries(tries)).toEqual({ 'flaky.csv': DROP_ATTEMPTS, 'never.csv': DROP_ATTEMPTS, 'refused.csv': 1 });
      expect(fs.readFileSync(drop.at('failed', 'never.csv.error.txt'), 'utf8')).toMatch(/^never\.csv was not taken: the database is away\n\nFailed 3 times, the last at .+\nDrop it again once the fault is mended\.\n$/);
      expect(fs.readFileSync(drop.at('failed', 'refused.csv.error.txt'), 'utf8')).toMatch(/^refused\.csv was not taken: not a FOCUS file: BilledCost is missing\n\nRefused at .+\nCorrect it and drop it again\.\n$/);
    } finally {
      await drop.folder.stop();
      fs.rmSync(drop.dir, { recursive: true, force: true });
    }
  });

  it('puts back, once, what a process of this host that is gone left in processing/; names what another process left and leaves it', async () => {
    const received: string[] = [];
    const mine = `${os.hostname()}.${process.pid}`;
    // Slow looks: a file put back waits, as if the process died again before taking it.
    const first = costFolder(async (name) => { received.push(name); return imported(); }, undefined, 60_000);
    const ofOtherHost = first.at('processing', 'elsewhere.example.7', 'theirs.csv');
    try {
      for (const file of [first.at('processing', mine, 'mine.csv'), ofOtherHost, first.at('processing', 'unowned.csv')]) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, 'BilledCost\n1\n');
      }
      await first.folder.start();
      expect(fs.existsSync(first.at('mine.csv'))).toBe(true);
      expect(fs.existsSync(first.at('processing', mine))).toBe(false);
      expect(fs.existsSync(ofOtherHost)).toBe(true);
      expect(fs.existsSync(first.at('processing', 'unowned.csv'))).toBe(true);
      expect(first.lines.filter((line) => line.level === WARN).map((line) => [line.msg, line.files ?? line.file])).toEqual(expect.arrayContaining([
        ['cost drop folder: a file left in processing/ by a process that stopped while receiving it is put back, to be taken again', 'mine.csv'],
        [expect.stringContaining('cost drop folder: files left in processing/ by a process that may still be receiving them'), ['theirs.csv']],
        [expect.stringContaining('cost drop folder: files left in processing/ by a process that may still be receiving them'), ['unowned.csv']],
      ]));
    } finally {
      await first.folder.stop();
    }

    // Left again as the process died receiving it a second time: failed, not put back again.
    fs.mkdirSync(first.at('processing', mine), { recursive: true });
    fs.renameSync(first.at('mine.csv'), first.at('processing', mine, 'mine.csv'));
    const again = new CostDropFolder({ dir: first.dir, everyMs: 20, logger: createLogger('silent', 'test'), receive: async ({ name }) => { received.push(name); return imported(); } });
    try {
      await again.start();
      expect(fs.existsSync(first.at('mine.csv'))).toBe(false);
      expect(fs.readFileSync(first.at('failed', 'mine.csv.error.txt'), 'utf8')).toMatch(/^mine\.csv was not taken: the API stopped twice while receiving it/);
      expect(fs.existsSync(first.at('failed', 'mine.csv'))).toBe(true);
      expect(fs.existsSync(ofOtherHost)).toBe(true);
      expect(received).toEqual([]);
    } finally {
      await again.stop();
      fs.rmSync(first.dir, { recursive: true, force: true });
    }
  });
});
