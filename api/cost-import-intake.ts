/**
 * Receiving a cloud bill in FOCUS (issue 17), from POST /cost-imports, the web upload and the
 * watched folder alike. The file goes to a temporary file as it arrives (hashed and counted on the
 * way, never held); the same file again answers the import it became. DuckDB reads it (CSV, gzipped
 * CSV or Parquet) and streams its rows, each checked by domain/focus.ts: those that pass are copied
 * into cost_import_rows, the others stored with their problems as the import's report. Then the
 * import's workflow (workflows/cost-import) writes the staged rows as cost records.
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Role } from '../domain/directory';
import { checkFocusRow, readFocusHeader, type FocusField, type FocusHeader, type FocusValues } from '../domain/focus';
import { insertAuditRow } from '../model/audit-rows';
import {
  copyStagedRows, failCostImport, findCostImport, findCostImportOfFile, insertCostImport, insertRefusals, markCostImportStaged, stagedRowLine,
  type CostImportFormat, type CostImportRefusal, type CostImportSource, type CostImportSummary,
} from '../model/cost-imports';
import { personWithRoles } from '../model/reconciliation/intake';
import { CostDropFolder } from '../platform/cost-drop-folder';
import { isUniqueViolation } from '../platform/database';
import type { Logger } from '../platform/logger';
import { costImportWorkflowId, type CostImportInput } from '../workflows/cost-import/contract';
import type { costImportWorkflow } from '../workflows/cost-import/workflow';
import type { AppDeps } from './app';
import { HttpError } from './errors';
import { INVENTORY_SENDERS, type DropFolderSettings } from './inventory-intake';
import { workflowExists } from './imports';
import { startWithinDeadline } from './workflow-calls';

/** Most bytes a cost file may have as sent (gzip counts packed), unless COST_IMPORT_MAX_BYTES says otherwise: 4 GiB. */
export const COST_IMPORT_MAX_BYTES = 4 * 1024 ** 3;

/** Refused rows stored per INSERT. */
const REFUSALS_BATCH = 500;
/** A refused row's values are kept up to this many characters: enough to recognise it. */
const REFUSED_VALUE_CHARS = 200;
/** DuckDB's share of the API process: its buffers stay within this whatever the file's size. */
const DUCKDB_SETTINGS = { memory_limit: '256MB', threads: '2', autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' };

export type CostImportIntakeDeps = Pick<AppDeps, 'db' | 'temporal' | 'taskQueue' | 'costImportMaxBytes'>;

export interface CostImportRequest {
  fileName: string;
  source: CostImportSource;
  /** The person the import is recorded as. */
  requestedBy: { id: string; email: string };
  /** The file's bytes as sent: plain or gzipped CSV, or Parquet. */
  file: Readable;
}

/** An import as received; `repeated` when the file is one received before, whose import is answered as it stands. */
export type ReceivedCostImport = CostImportSummary & { repeated: boolean };

const tooLarge = (maxBytes: number) => new HttpError(413, 'payload_too_large',
  `the file is larger than ${maxBytes.toLocaleString('en')} bytes; split it (one file per billing period or account)`);

/** The file as spooled: where, how many bytes, their SHA-256, and its first bytes (its format). */
interface SpooledFile {
  path: string;
  bytes: number;
  sha256: string;
  head: Buffer;
}

/** Writes the upload to `target`, hashing and counting; past `maxBytes` it stops reading and refuses (413). */
async function spool(file: Readable, target: string, maxBytes: number): Promise<SpooledFile> {
  const hash = createHash('sha256');
  const out = createWriteStream(target);
  let bytes = 0;
  let head = Buffer.alloc(0);
  try {
    // Not destroyed when a refusal stops the reading: the answer still goes out on its connection.
    for await (const chunk of file.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buffer.length;
      if (bytes > maxBytes) throw tooLarge(maxBytes);
      if (head.length < 4) head = Buffer.concat([head, buffer.subarray(0, 4 - head.length)]);
      hash.update(buffer);
      if (!out.write(buffer)) await once(out, 'drain');
    }
    out.end();
    await finished(out);
  } catch (error) {
    out.destroy();
    if (!file.destroyed && !file.readableEnded) file.resume();
    throw error;
  }
  return { path: target, bytes, sha256: hash.digest('hex'), head };
}

/** The format by the file's first bytes: gzip's magic, Parquet's, else CSV. */
export function costFileFormat(head: Buffer): CostImportFormat {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'csv_gzip';
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  return 'csv';
}

/** A file that is not a FOCUS bill, or that DuckDB cannot read: the import fails with the reason, and the caller gets 422. */
class FileRefused extends Error {
  constructor(readonly code: 'not_focus' | 'unreadable_file', message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}

const sqlText = (text: string) => `'${text.replace(/'/g, "''")}'`;
const identifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

function sourceOf(file: string, format: CostImportFormat): string {
  if (format === 'parquet') return `read_parquet(${sqlText(file)})`;
  return `read_csv(${sqlText(file)}, all_varchar = true, header = true, auto_detect = true, compression = '${format === 'csv_gzip' ? 'gzip' : 'none'}')`;
}

/**
 * A column as text, whatever its type in a Parquet file: nested tags as JSON, timestamps as ISO
 * 8601 UTC (a TIMESTAMP WITH TIME ZONE is UTC inside DuckDB), anything else as DuckDB writes it
 * (decimals exactly; doubles shortest, which checkFocusRow reads exactly as written).
 */
function textOf(column: string, type: string): string {
  const col = identifier(column);
  if (type === 'VARCHAR') return col;
  if (/^(MAP|STRUCT|UNION)\b|\[\d*\]$|^JSON$/.test(type)) return `to_json(${col})::VARCHAR`;
  if (/^TIMESTAMP/.test(type)) return `strftime(CAST(${col} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%gZ')`;
  return `CAST(${col} AS VARCHAR)`;
}

/** DuckDB's reason, in words for the uploader: its first line, the temporary file named as the upload. */
function duckReason(error: unknown, file: string, fileName: string): string {
  const message = (error as Error).message ?? String(error);
  return message.split('\n')[0].split(file).join(fileName).trim();
}

const cut = (value: string | null) => (value !== null && value.length > REFUSED_VALUE_CHARS ? `${value.slice(0, REFUSED_VALUE_CHARS)}…` : value);

interface StagedCounts {
  rowsTotal: number;
  rowsRefused: number;
  header: FocusHeader;
}

/**
 * Reads the file with DuckDB and stages it: accepted rows copied into cost_import_rows, refused ones
 * into cost_import_refusals. A chunk of rows (DuckDB's 2,048) is the most the Node heap holds.
 */
async function stageFile(db: CostImportIntakeDeps['db'], importId: string, file: SpooledFile, format: CostImportFormat, fileName: string): Promise<StagedCounts> {
  const instance = await DuckDBInstance.create(':memory:', DUCKDB_SETTINGS);
  let connection: DuckDBConnection | undefined;
  const duck = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw new FileRefused('unreadable_file', `the file cannot be read as CSV or Parquet: ${duckReason(error, file.path, fileName)}`);
    }
  };
  try {
    connection = await instance.connect();
    const duckdb = connection;
    const source = sourceOf(file.path, format);
    const described = await duck(async () => (await duckdb.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRows());
    const columns = described.map(([name, type]) => ({ name: String(name), type: String(type) }));
    const read = readFocusHeader(columns.map((column) => column.name));
    if ('missing' in read) {
      throw new FileRefused('not_focus', `not a FOCUS cost file: the column(s) ${read.missing.join(', ')} are missing`, { missing: read.missing });
    }
    const { header } = read;
    const mapped = (Object.entries(header.columnOf) as [FocusField, string][]).filter(([, column]) => column !== undefined);
    const typeOf = new Map(columns.map((column) => [column.name, column.type]));
    const select = mapped.map(([, column], at) => `${textOf(column, typeOf.get(column) ?? 'VARCHAR')} AS c${at}`).join(', ');
    const result = await duck(() => duckdb.stream(`SELECT ${select} FROM ${source}`));

    let rowsTotal = 0;
    let rowsRefused = 0;
    let refusals: CostImportRefusal[] = [];
    async function* lines(): AsyncIterable<string> {
      for (let chunk = await duck(() => result.fetchChunk()); chunk && chunk.rowCount > 0; chunk = await duck(() => result.fetchChunk())) {
        let text = '';
        // Column by column: half the cost of turning each row into an array first.
        const columns = chunk.getColumns();
        for (let index = 0; index < chunk.rowCount; index += 1) {
          rowsTotal += 1;
          const values: FocusValues = {};
          columns.forEach((column, at) => {
            const value = column[index];
            values[mapped[at][0]] = value === null || value === '' ? null : String(value);
          });
          const checked = checkFocusRow(values);
          if ('line' in checked) {
            text += stagedRowLine(importId, rowsTotal, checked.line);
            continue;
          }
          rowsRefused += 1;
          refusals.push({
            rowNumber: rowsTotal,
            problems: checked.problems,
            line: Object.fromEntries(mapped.map(([field, column]) => [column, cut(values[field] ?? null)])),
          });
          if (refusals.length >= REFUSALS_BATCH) {
            await insertRefusals(db, importId, refusals);
            refusals = [];
          }
        }
        if (text) yield text;
      }
    }
    try {
      await copyStagedRows(db, lines());
    } catch (error) {
      // A value the check let through that Postgres still refuses (data exception, class 22) is the file's fault.
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('22')) throw new FileRefused('unreadable_file', `a row could not be staged: ${(error as Error).message}`);
      throw error;
    }
    await insertRefusals(db, importId, refusals);
    return { rowsTotal, rowsRefused, header };
  } finally {
    connection?.closeSync();
    instance.closeSync();
  }
}

const NOT_STARTED = 'its workflow could not be started (the workflow service did not answer in time); nothing was written, '
  + 'nor will be should the start arrive late: send the file again';

/**
 * Receives a cost file: spools it, answers the import a file with the same bytes became (repeated),
 * else records an import, stages its rows and starts its workflow. Throws HttpError: 413 (too large:
 * nothing is kept), 422 not_focus (the required FOCUS columns are missing, named) or unreadable_file
 * (not CSV or Parquet, broken gzip): the import is kept, failed, with the reason; 503 or 504 (its
 * workflow could not be started: failed, and nothing of it is ever written).
 */
export async function receiveCostImport(deps: CostImportIntakeDeps, request: CostImportRequest): Promise<ReceivedCostImport> {
  const { db, temporal, taskQueue } = deps;
  const dir = path.join(os.tmpdir(), 'assetflow-cost-imports');
  await fs.mkdir(dir, { recursive: true });
  const target = path.join(dir, randomUUID());
  try {
    const file = await spool(request.file, target, deps.costImportMaxBytes ?? COST_IMPORT_MAX_BYTES);
    const repeated = async () => {
      const earlier = await findCostImportOfFile(db, file.sha256);
      return earlier && { ...earlier, repeated: true };
    };
    const earlier = await repeated();
    if (earlier) return earlier;
    const format = costFileFormat(file.head);
    let importId: string;
    try {
      importId = await insertCostImport(db, {
        fileName: request.fileName, fileSha256: file.sha256, fileBytes: file.bytes, format, source: request.source, requestedById: request.requestedBy.id,
      });
    } catch (error) {
      // The same file sent twice at once: the first insert wins, the second answers it.
      const winner = isUniqueViolation(error, 'cost_imports_file_unique') ? await repeated() : null;
      if (winner) return winner;
      throw error;
    }
    let staged: StagedCounts;
    try {
      staged = await stageFile(db, importId, file, format, request.fileName);
    } catch (error) {
      const refused = error instanceof FileRefused;
      await failCostImport(db, importId, refused ? error.message : `the file could not be staged: ${(error as Error).message}`);
      if (refused) throw new HttpError(422, error.code, error.message, { ...error.details, import: (await findCostImport(db, { id: importId }))?.number });
      throw error;
    }
    const workflowId = costImportWorkflowId(importId);
    await db.transaction(async (trx) => {
      await markCostImportStaged(trx, importId, { rowsTotal: staged.rowsTotal, rowsRefused: staged.rowsRefused, focusVersion: staged.header.version, workflowId });
      await insertAuditRow(trx, {
        actor: request.requestedBy.email, subjectType: 'cost_import', subjectId: importId, action: 'cost_import_received', fromState: 'staging', toState: 'staged',
        details: {
          fileName: request.fileName, format, source: request.source, bytes: file.bytes, sha256: file.sha256, focusVersion: staged.header.version,
          rowsTotal: staged.rowsTotal, rowsRefused: staged.rowsRefused, ignoredColumns: staged.header.ignored,
        },
      });
    });
    const input: CostImportInput = { importId };
    try {
      await startWithinDeadline(temporal, () => temporal.workflow.start<typeof costImportWorkflow>('costImportWorkflow', { workflowId, taskQueue, args: [input] }));
    } catch (error) {
      // No answer is not no start: the request may have reached Temporal and the workflow may run.
      if (!(await workflowExists(temporal, workflowId))) {
        const failed = await failCostImport(db, importId, NOT_STARTED);
        if (failed) throw error;
      }
    }
    return { ...(await findCostImport(db, { id: importId }))!, repeated: false };
  } finally {
    await fs.rm(target, { force: true });
  }
}

/**
 * Starts watching the cost drop folder (platform/cost-drop-folder.ts), each file imported as
 * `settings.as`, who must be an active asset manager or admin: otherwise the log says so and the
 * folder stays unwatched (answers undefined); should they lose the role later, files wait.
 */
export async function watchCostDropFolder(deps: CostImportIntakeDeps & { logger: Logger }, settings: DropFolderSettings): Promise<CostDropFolder | undefined> {
  const { db, logger } = deps;
  const whyNot = async () => {
    const person = await personWithRoles(db, settings.as);
    if (!person) return `COST_DROP_AS names nobody: no person has the email ${settings.as}`;
    if (!person.active) return `COST_DROP_AS names ${person.email}, who is not active`;
    if (!person.roles.some((role) => INVENTORY_SENDERS.includes(role as Role))) return `COST_DROP_AS names ${person.email}, who is not an asset manager or admin`;
    return undefined;
  };
  const refusal = await whyNot();
  if (refusal) {
    logger.error({ dir: settings.dir }, `the cost drop folder is not watched: ${refusal}`);
    return undefined;
  }
  const sender = (await personWithRoles(db, settings.as))!;
  const folder = new CostDropFolder({
    dir: settings.dir, everyMs: settings.everyMs, logger, whyNot,
    receive: (file) => receiveCostImport(deps, { fileName: file.name, source: 'drop_folder', requestedBy: { id: sender.id, email: sender.email }, file: file.stream }),
  });
  await folder.start();
  return folder;
}
