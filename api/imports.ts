/**
 * Receiving a bulk import: the uploaded file is read as a stream (CSV with a header row, or JSON
 * lines), never held whole, and staged in import_rows a thousand rows at a time; then the import's
 * workflow is started to check and apply it. Shared by the API's POST /imports and the web UI's
 * upload form.
 */
import { Readable, pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse, type CsvError } from 'csv-parse';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { MAX_IMPORT_ROWS, type ColumnProblem, type ImportFormat, type ImportKind, type MasterDataKindName, type OnInvalidRows } from '../domain/master-data';
import { insertAuditRow } from '../model/audit-rows';
import {
  deleteStagedImport,
  findImport,
  failImportNotStarted,
  insertImport,
  setImportStarted,
  stageImportRows,
  type ImportSummary,
  type NewImport,
  type StagedRow,
} from '../model/imports';
import { MASTER_DATA } from '../model/master-data';
import type { MasterDataKind, Row } from '../model/master-data/kind';
import { importWorkflowId, type MasterDataImportInput } from '../workflows/master-data-import/contract';
import type { masterDataImportWorkflow } from '../workflows/master-data-import/workflow';
import type { AppDeps } from './app';
import { HttpError, badRequest } from './errors';
import { WORKFLOW_DEADLINES, startWithinDeadline } from './workflow-calls';

/**
 * Most bytes an import file may have (after gzip is undone): 256 MiB, room for a million rows of
 * a few columns. A larger file is refused with 413 and nothing of it is kept.
 */
export const MAX_IMPORT_BYTES = 256 * 1024 * 1024;

/** Most bytes one row (a CSV record or a JSON line) may have. */
export const MAX_ROW_BYTES = 64 * 1024;

/** Rows staged per INSERT. */
const STAGING_BATCH = 1_000;

/** A file as uploaded, of any kind of import. */
export interface FileRequest {
  format: ImportFormat;
  dryRun: boolean;
  onInvalidRows: OnInvalidRows;
  fileName: string | null;
  requestedBy: { id: string; email: string };
  file: Readable;
}

export interface ImportRequest extends FileRequest {
  kind: MasterDataKindName;
}

/** What a file is imported as: a list of master data, or an inventory batch from a feed. */
export interface ImportTarget {
  kind: ImportKind;
  /** A CSV header's columns, or a 400 HttpError naming the columns taken. */
  checkHeader(header: string[]): string[];
  inventory?: NewImport['inventory'];
}

/** A row of the file as read: the row, or null with why it could not be read. */
interface ReadRow {
  record: Row | null;
  problems: ColumnProblem[];
}

const tooLarge = (what: string) => new HttpError(413, 'payload_too_large', `${what}; split the file and import the parts one after another`);

const unreadable = (line: string, reason: string): ReadRow => ({ record: null, problems: [{ column: '(row)', value: line, reason }] });

/** The file's bytes, refused past MAX_IMPORT_BYTES. */
async function* limited(file: Readable): AsyncIterable<Buffer> {
  let bytes = 0;
  // Not destroyed when a refusal stops the reading: the answer still goes out on its connection.
  for await (const chunk of file.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    bytes += buffer.length;
    if (bytes > MAX_IMPORT_BYTES) throw tooLarge(`the file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MiB`);
    yield buffer;
  }
}

/**
 * A CSV header names the kind's columns, each once, and at least its key columns; anything else is
 * refused before a row is staged, with the columns the kind takes.
 */
function checkHeader(kind: MasterDataKind, header: string[]): string[] {
  const columns = header.map((column) => column.trim());
  const details = { columns: kind.columns, keyColumns: kind.keyColumns };
  const unknown = columns.filter((column) => !kind.columns.includes(column));
  if (unknown.length > 0) {
    throw new HttpError(400, 'invalid_header', `unknown column(s) ${unknown.map((c) => `"${c}"`).join(', ')}; ${kind.title.toLowerCase()} take: ${kind.columns.join(', ')}`, { ...details, unknown });
  }
  const repeated = columns.filter((column, at) => columns.indexOf(column) !== at);
  if (repeated.length > 0) throw new HttpError(400, 'invalid_header', `column(s) named twice: ${[...new Set(repeated)].join(', ')}`, { ...details, repeated });
  const missing = kind.keyColumns.filter((column) => !columns.includes(column));
  if (missing.length > 0) {
    throw new HttpError(400, 'invalid_header', `the key column(s) ${missing.join(', ')} are missing: each row is matched on ${kind.keyColumns.join(' + ')}`, { ...details, missing });
  }
  return columns;
}

/**
 * CSV rows after the header, as column -> cell text. A record that cannot be parsed (a wrong number
 * of cells, a broken quote) is a row of its own with the parser's reason, in its place in the file.
 */
async function* csvRows(target: ImportTarget, bytes: AsyncIterable<Buffer>): AsyncIterable<ReadRow> {
  // Skipped records, each with the number of records read before it (the header included).
  const skipped: { before: number; reason: string }[] = [];
  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    relax_quotes: true,
    skip_records_with_error: true,
    max_record_size: MAX_ROW_BYTES,
    info: true,
    on_skip: (error: CsvError | undefined) => {
      if (error) skipped.push({ before: Number(error.records), reason: error.message });
    },
  });
  // A failure of the source (too large, the upload broken off) comes out of the parser's iteration.
  pipeline(Readable.from(bytes), parser, () => undefined);
  let header: string[] | undefined;
  const skippedRow = () => {
    const skip = skipped.shift()!;
    return unreadable('', `not a CSV record: ${skip.reason}`);
  };
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { records: number } }>) {
      if (!header) {
        header = target.checkHeader(record);
        continue;
      }
      while (skipped.length > 0 && skipped[0].before < info.records) yield skippedRow();
      const columns = header;
      yield { record: Object.fromEntries(columns.map((column, at) => [column, record[at]])), problems: [] };
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && /^(CSV_|INVALID_)/.test(code)) throw badRequest(`the file cannot be read as CSV: ${(error as Error).message}`);
    throw error;
  }
  if (!header) throw badRequest('the file is empty: a CSV file starts with a header row naming its columns');
  while (skipped.length > 0) yield skippedRow();
}

function jsonLine(line: string): ReadRow {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return unreadable(line.slice(0, 200), `not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return unreadable(line.slice(0, 200), 'not a JSON object of columns');
  return { record: value as Row, problems: [] };
}

/** JSON lines: one object per line; blank lines are no rows. A line past MAX_ROW_BYTES is a refused row, not read. */
async function* jsonLines(bytes: AsyncIterable<Buffer>): AsyncIterable<ReadRow> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let first = true;
  let overlong = false;
  const row = (line: string): ReadRow | null => {
    let text = line.replace(/\r$/, '');
    if (first) {
      text = text.replace(/^\uFEFF/, '');
      first = false;
    }
    return text.trim() === '' ? null : jsonLine(text);
  };
  for await (const chunk of bytes) {
    let text = pending + decoder.write(chunk);
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n')) {
      const line = text.slice(0, end);
      text = text.slice(end + 1);
      if (overlong) {
        overlong = false;
        continue;
      }
      const read = row(line);
      if (read) yield read;
    }
    pending = text;
    if (!overlong && Buffer.byteLength(pending) > MAX_ROW_BYTES) {
      overlong = true;
      yield unreadable(pending.slice(0, 200), `a line longer than ${MAX_ROW_BYTES / 1024} KiB`);
    }
    if (overlong) pending = '';
  }
  const last = overlong ? null : row(pending + decoder.end());
  if (last) yield last;
}

/** Stages the rows in batches; answers how many there were. Past MAX_IMPORT_ROWS the file is refused. */
async function stage(db: Knex, importId: string, first: ReadRow, rest: AsyncIterator<ReadRow>): Promise<number> {
  let batch: StagedRow[] = [];
  let rowNumber = 0;
  for (let next: IteratorResult<ReadRow> = { value: first }; !next.done; next = await rest.next()) {
    rowNumber += 1;
    if (rowNumber > MAX_IMPORT_ROWS) throw tooLarge(`the file has more than ${MAX_IMPORT_ROWS.toLocaleString('en')} rows`);
    batch.push({ rowNumber, ...next.value });
    if (batch.length === STAGING_BATCH) {
      await stageImportRows(db, importId, batch);
      batch = [];
    }
  }
  await stageImportRows(db, importId, batch);
  return rowNumber;
}

/**
 * Receives an import: reads and stages the file, then starts its workflow. Throws HttpError: 400
 * (an unknown kind, a header with an unknown or without a key column, an empty or unreadable file:
 * nothing is kept), 413 (too many bytes or rows: nothing is kept), 503 or 504 (its workflow could
 * not be started: the import is kept, failed, and nothing of it is ever written).
 */
export async function receiveImport(deps: Pick<AppDeps, 'db' | 'temporal' | 'taskQueue'>, request: ImportRequest): Promise<ImportSummary> {
  const kind = MASTER_DATA.get(request.kind);
  if (!kind) throw badRequest(`no master data kind ${request.kind}; the kinds are: ${[...MASTER_DATA.keys()].join(', ')}`);
  return receiveFile(deps, { kind: kind.name, checkHeader: (header) => checkHeader(kind, header) }, request);
}

/**
 * Reads and stages a file as `target` says, then starts its import workflow; receiveImport and the
 * inventory intake (api/inventory-intake.ts) both receive through it. Refusals as receiveImport's;
 * an inventory batch whose (source, batch key) a live batch holds fails its insert with the unique
 * violation of imports_batch_key_unique before anything is staged.
 */
export async function receiveFile(deps: Pick<AppDeps, 'db' | 'temporal' | 'taskQueue'>, target: ImportTarget, request: FileRequest): Promise<ImportSummary> {
  const { db, temporal, taskQueue } = deps;
  const bytes = limited(request.file);
  const rows = (request.format === 'csv' ? csvRows(target, bytes) : jsonLines(bytes))[Symbol.asyncIterator]();
  try {
    // The header is checked, and an empty file refused, before anything is staged.
    const first = await rows.next();
    if (first.done) throw badRequest('the file has no rows');
    const importId = await insertImport(db, {
      kind: target.kind, format: request.format, fileName: request.fileName, dryRun: request.dryRun, onInvalidRows: request.onInvalidRows, requestedById: request.requestedBy.id,
      inventory: target.inventory,
    });
    let rowsTotal: number;
    try {
      rowsTotal = await stage(db, importId, first.value, rows);
    } catch (error) {
      await deleteStagedImport(db, importId);
      throw error;
    }
    return await startImport({ db, temporal, taskQueue }, target.kind, importId, rowsTotal, request);
  } finally {
    // Stops reading a file refused half-way (the rest of the upload is not wanted).
    await rows.return?.();
    if (!request.file.destroyed && !request.file.readableEnded) request.file.resume();
  }
}

/**
 * Starts the workflow of an import whose rows are staged (an upload's, or a dry run's copied to be
 * applied): 503 or 504 when it could not be, and the import is failed so that a late start writes nothing.
 */
export async function startImport(
  deps: Pick<AppDeps, 'db' | 'temporal' | 'taskQueue'>, kind: ImportKind, importId: string, rowsTotal: number, request: Omit<FileRequest, 'file'>,
): Promise<ImportSummary> {
  const { db, temporal, taskQueue } = deps;
  const workflowId = importWorkflowId(importId);
  await db.transaction(async (trx) => {
    await setImportStarted(trx, importId, rowsTotal, workflowId);
    await insertAuditRow(trx, {
      actor: request.requestedBy.email,
      subjectType: 'import',
      subjectId: importId,
      action: 'import_received',
      details: { kind, format: request.format, fileName: request.fileName, dryRun: request.dryRun, onInvalidRows: request.onInvalidRows, rowsTotal },
    });
  });
  const input: MasterDataImportInput = { importId, kind, dryRun: request.dryRun, onInvalidRows: request.onInvalidRows, rowsTotal };
  try {
    await startWithinDeadline(temporal, () => temporal.workflow.start<typeof masterDataImportWorkflow>('masterDataImportWorkflow', { workflowId, taskQueue, args: [input] }));
  } catch (error) {
    // No answer is not no start: the request may have reached Temporal and the workflow may run.
    if (await workflowExists(temporal, workflowId)) return (await findImport(db, importId))!;
    // Failed only while its check has not begun; the check refuses a failed import, so should the
    // start arrive after all, nothing is written and uploading the file again applies it once.
    const failed = await db.transaction(async (trx) => {
      const marked = await failImportNotStarted(trx, importId, NOT_STARTED);
      if (marked) {
        await insertAuditRow(trx, {
          actor: request.requestedBy.email, subjectType: 'import', subjectId: importId, action: 'import_failed', fromState: 'receiving', toState: 'failed',
          details: { before: { state: 'receiving' }, after: { state: 'failed', message: NOT_STARTED }, reason: (error as Error).message },
        });
      }
      return marked;
    });
    if (failed) throw error;
  }
  return (await findImport(db, importId))!;
}

const NOT_STARTED = 'its workflow could not be started (the workflow service did not answer in time); nothing was written, '
  + 'nor will be should the start arrive late: upload the file again';

/**
 * Whether the workflow is there, asked within the status deadline. False when Temporal says there
 * is none, and when it cannot be asked: the import is then failed in a way a late start respects.
 */
export async function workflowExists(temporal: Client, workflowId: string): Promise<boolean> {
  try {
    await temporal.connection.withDeadline(Date.now() + WORKFLOW_DEADLINES.statusMs, () => temporal.workflow.getHandle(workflowId).describe());
    return true;
  } catch {
    // Not found, or not known in time: either way not known to run.
    return false;
  }
}
