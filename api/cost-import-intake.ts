/**
 * Receiving a cloud bill in FOCUS (issue 17), from POST /cost-imports, the web upload and the
 * watched folder alike. A bill is one file, or the parts of one bill (AWS Data Exports and Azure's
 * partitioned exports write part-00001, part-00002, … for one provider, account and period), which
 * are one import: read together, in the order of their names, their rows numbered across them.
 * Each file goes to a temporary file as it arrives (hashed and counted on the way, never held); the
 * same bill again answers the import it became. DuckDB reads it (CSV, gzipped CSV or Parquet) and
 * streams its rows, each checked by domain/focus.ts: those that pass are copied into
 * cost_import_rows, the others (and the CSV lines DuckDB cannot split into the header's columns)
 * are written to a temporary file and copied into cost_import_refusals after, as the import's
 * report. Then the import's workflow (workflows/cost-import) writes the staged rows as cost records.
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { finished } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection, type DuckDBResult } from '@duckdb/node-api';
import type { Role } from '../domain/directory';
import { checkFocusRow, readFocusHeader, type FocusField, type FocusHeader, type FocusValues, type RowProblem } from '../domain/focus';
import { insertAuditRow } from '../model/audit-rows';
import {
  abandonCostImports, copyRefusals, copyStagedRows, failCostImport, findCostImport, findCostImportOfFile, insertCostImport, markCostImportStaged, refusalLine,
  stagedRowLine, touchCostImport, type CostImportFormat, type CostImportRefusal, type CostImportSource, type CostImportSummary,
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

/** Most bytes a bill may have as sent, all its parts together (gzip counts packed), unless COST_IMPORT_MAX_BYTES says otherwise: 4 GiB. */
export const COST_IMPORT_MAX_BYTES = 4 * 1024 ** 3;
/** Most parts one bill may come in. */
export const COST_IMPORT_MAX_PARTS = 500;
/**
 * Most bills one API process receives at once: each holds a DuckDB (DUCKDB_SETTINGS), a pooled
 * connection and its temporary files until it is staged. More answer 503 with Retry-After.
 */
export const COST_IMPORTS_AT_ONCE = 2;
/** A bill still staging (or staged without its workflow) not touched for this long was left by a process that stopped. */
export const COST_IMPORT_ABANDONED_AFTER_MS = 15 * 60_000;

/** How often a staging import is touched: well inside COST_IMPORT_ABANDONED_AFTER_MS. */
const TOUCH_EVERY_MS = 10_000;
const BUSY_RETRY_AFTER_SECONDS = 30;
/** A refused row's values are kept up to this many characters: enough to recognise it. */
const REFUSED_VALUE_CHARS = 200;
/** A CSV header longer than this is not a FOCUS header. */
const HEADER_MAX_CHARS = 1024 * 1024;
/** DuckDB's share of the API process: its buffers stay within this whatever the file's size. */
const DUCKDB_SETTINGS = { memory_limit: '256MB', threads: '2', autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' };

export type CostImportIntakeDeps = Pick<AppDeps, 'db' | 'temporal' | 'taskQueue' | 'costImportMaxBytes'>;

/** One file of a bill in parts: its name (which orders the parts) and its bytes as sent. */
export interface CostFilePart {
  name: string;
  stream: Readable;
}

export type CostImportRequest = {
  source: CostImportSource;
  /** The person the import is recorded as. */
  requestedBy: { id: string; email: string };
} & (
  /** One file's bytes as sent: plain or gzipped CSV, or Parquet. */
  | { fileName: string; file: Readable }
  /**
   * The files of one bill, each read to its end before the next is asked for; all of one format and
   * one set of columns. The import is named `fileName`, else by its parts.
   */
  | { fileName?: string; parts: AsyncIterable<CostFilePart> }
);

/** An import as received; `repeated` when the bill is one received before, whose import is answered as it stands. */
export type ReceivedCostImport = CostImportSummary & { repeated: boolean };

const tooLarge = (maxBytes: number) => new HttpError(413, 'payload_too_large',
  `the bill is larger than ${maxBytes.toLocaleString('en')} bytes; split it (one import per billing period or account)`);

let intakesRunning = 0;

/** A place among the COST_IMPORTS_AT_ONCE, or 503; answers its release. */
function takeIntakePlace(): () => void {
  if (intakesRunning >= COST_IMPORTS_AT_ONCE) {
    throw new HttpError(503, 'busy', `this API process is already receiving ${COST_IMPORTS_AT_ONCE} cost files; send the bill again in a moment`,
      undefined, BUSY_RETRY_AFTER_SECONDS);
  }
  intakesRunning += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    intakesRunning -= 1;
  };
}

/** A file as spooled: its name, where, how many bytes, their SHA-256, and its first bytes (its format). */
interface SpooledPart {
  name: string;
  path: string;
  bytes: number;
  sha256: string;
  head: Buffer;
}

/** Writes a file as it arrives to `target`, hashing and counting; past `maxBytes` (with `before` already spooled) it stops reading and refuses (413). */
async function spool(file: Readable, target: string, maxBytes: number, before: number): Promise<Omit<SpooledPart, 'name'>> {
  const hash = createHash('sha256');
  const out = createWriteStream(target);
  let bytes = 0;
  let head = Buffer.alloc(0);
  try {
    // Not destroyed when a refusal stops the reading: the answer still goes out on its connection.
    for await (const chunk of file.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buffer.length;
      if (before + bytes > maxBytes) throw tooLarge(maxBytes);
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

const byName = new Intl.Collator('en', { numeric: true });

/**
 * Spools every file of the request into `dir`, sorted by name (part-2 before part-10), each renamed
 * `<index>.part` so that DuckDB's messages and reject tables tell the part by its path.
 */
async function spoolParts(request: CostImportRequest, dir: string, maxBytes: number): Promise<SpooledPart[]> {
  const files: AsyncIterable<CostFilePart> | CostFilePart[] = 'file' in request ? [{ name: request.fileName, stream: request.file }] : request.parts;
  const spooled: SpooledPart[] = [];
  let bytes = 0;
  for await (const file of files) {
    if (spooled.length >= COST_IMPORT_MAX_PARTS) {
      file.stream.resume();
      throw new HttpError(400, 'too_many_parts', `a bill may come in ${COST_IMPORT_MAX_PARTS} parts at most`);
    }
    const part = await spool(file.stream, path.join(dir, `spooled-${spooled.length}`), maxBytes, bytes);
    bytes += part.bytes;
    spooled.push({ name: file.name || `part-${spooled.length + 1}`, ...part });
  }
  if (spooled.length === 0) throw new HttpError(400, 'invalid_input', 'no file was sent: send the cost file');
  spooled.sort((a, b) => byName.compare(a.name, b.name));
  for (const [at, part] of spooled.entries()) {
    const target = path.join(dir, `${at}.part`);
    await fs.rename(part.path, target);
    part.path = target;
  }
  return spooled;
}

/** The bill's identity: a file's SHA-256; for a bill in parts, the SHA-256 of its parts' in the order of their names. */
function identityOf(parts: SpooledPart[]): string {
  if (parts.length === 1) return parts[0].sha256;
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.sha256}\n`);
  return hash.digest('hex');
}

/** The import's name when the request gives none: the file's, or the first and last part's. */
const importName = (parts: SpooledPart[]) => (parts.length === 1 ? parts[0].name : `${parts[0].name} … ${parts[parts.length - 1].name} (${parts.length} parts)`);

/** The format by the file's first bytes: gzip's magic, Parquet's, else CSV. */
export function costFileFormat(head: Buffer): CostImportFormat {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'csv_gzip';
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  return 'csv';
}

const FORMAT_TEXT: Record<CostImportFormat, string> = { csv: 'CSV', csv_gzip: 'gzipped CSV', parquet: 'Parquet' };

/** A bill that is not FOCUS, whose parts differ, or that DuckDB cannot read: the import fails with the reason, and the caller gets 422. */
class FileRefused extends Error {
  constructor(readonly code: 'not_focus' | 'unreadable_file' | 'parts_differ', message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}

const sqlText = (text: string) => `'${text.replace(/'/g, "''")}'`;
const identifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * A column as text, whatever its type in a Parquet file: nested tags as JSON; timestamps as ISO 8601
 * UTC to the microsecond (a TIMESTAMP WITH TIME ZONE turned to UTC itself, never through the
 * session's zone; nanoseconds as written, which the check refuses unless they are zeros); anything
 * else as DuckDB writes it (decimals exactly; doubles shortest, which checkFocusRow reads exactly as written).
 */
export function textOf(column: string, type: string): string {
  const col = identifier(column);
  if (type === 'VARCHAR') return col;
  if (/^(MAP|STRUCT|UNION)\b|\[\d*\]$|^JSON$/.test(type)) return `to_json(${col})::VARCHAR`;
  if (type === 'TIMESTAMP WITH TIME ZONE') return `strftime(timezone('UTC', ${col}), '%Y-%m-%dT%H:%M:%S.%fZ')`;
  if (type === 'TIMESTAMP_NS') return `CAST(${col} AS VARCHAR)`;
  if (/^TIMESTAMP/.test(type)) return `strftime(CAST(${col} AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%fZ')`;
  return `CAST(${col} AS VARCHAR)`;
}

const cut = (value: string | null) => (value !== null && value.length > REFUSED_VALUE_CHARS ? `${value.slice(0, REFUSED_VALUE_CHARS)}…` : value);

/** The first record of CSV text (RFC 4180 quoting), or undefined while it does not end within the text and more may come. */
function firstRecord(text: string, atEnd: boolean): string[] | undefined {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let at = text.charCodeAt(0) === 0xfeff ? 1 : 0; at < text.length; at += 1) {
    const char = text[at];
    if (quoted) {
      if (char !== '"') field += char;
      else if (at + 1 === text.length && !atEnd) return undefined;
      else if (text[at + 1] === '"') {
        field += '"';
        at += 1;
      } else quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      fields.push(field);
      return fields;
    } else field += char;
  }
  if (!atEnd) return undefined;
  return text.length > 0 ? [...fields, field] : [];
}

/**
 * A CSV part's column names, read from the start of the file alone: DuckDB is told the columns and
 * the dialect rather than left to guess them from a sample, where one ragged line makes it give up.
 */
async function csvHeader(part: SpooledPart, gzip: boolean): Promise<string[]> {
  const file = createReadStream(part.path);
  const unpacked = gzip ? file.pipe(createGunzip()) : file;
  const decoder = new StringDecoder('utf8');
  let text = '';
  try {
    for await (const chunk of unpacked as AsyncIterable<Buffer>) {
      text += decoder.write(chunk);
      const header = firstRecord(text, false);
      if (header) return header;
      if (text.length > HEADER_MAX_CHARS) throw new FileRefused('unreadable_file', `${part.name} is not a FOCUS file: its first line is longer than ${HEADER_MAX_CHARS.toLocaleString('en')} characters`);
    }
    return firstRecord(text + decoder.end(), true)!;
  } catch (error) {
    if (error instanceof FileRefused) throw error;
    throw new FileRefused('unreadable_file', `${part.name} cannot be read as ${FORMAT_TEXT[gzip ? 'csv_gzip' : 'csv']}: ${(error as Error).message}`);
  } finally {
    file.destroy();
    unpacked.destroy();
  }
}

/** DuckDB's reason, in words for the uploader: its first line, each temporary file named as its part. */
function duckReason(error: unknown, parts: SpooledPart[]): string {
  const message = (error as Error).message ?? String(error);
  return parts.reduce((text, part) => text.split(part.path).join(part.name), message.split('\n')[0]).trim();
}

/** Why DuckDB could not take a CSV line, in plain words. */
function rejectReason(type: string, message: string): string {
  switch (type) {
    case 'TOO MANY COLUMNS':
      return `the line has more values than the header has columns (${message})`;
    case 'MISSING COLUMNS':
      return `the line has fewer values than the header has columns (${message})`;
    case 'UNQUOTED VALUE':
      return 'a quote in the line is not closed, or stands inside a value that is not quoted: what follows, up to the next quote, was read as part of this line';
    case 'INVALID ENCODING':
    case 'INVALID UNICODE':
      return 'the line is not UTF-8 text';
    case 'LINE SIZE OVER MAXIMUM':
      return `the line is longer than the most DuckDB reads (${message})`;
    default:
      return message;
  }
}

/** A CSV line DuckDB refused: its part, its row (the header not counted), why, and the line as read. */
interface RejectedLine {
  part: number;
  row: number;
  problems: RowProblem[];
  text: string;
}

/**
 * The lines DuckDB refused, in file order, each once with a reason per kind of error (store_rejects
 * writes a row per error: a line short of five values, five rows; the first names where it falls short).
 */
async function* rejectedLines(result: DuckDBResult): AsyncIterable<RejectedLine> {
  let current: (RejectedLine & { kinds: Set<string> }) | undefined;
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    for (const [part, line, type, message, column, text] of chunk.getRows()) {
      const row = Number(line) - 1;
      if (current && (current.part !== Number(part) || current.row !== row)) {
        yield current;
        current = undefined;
      }
      current ??= { part: Number(part), row, problems: [], kinds: new Set(), text: String(text ?? '').trim() };
      if (current.kinds.has(String(type))) continue;
      current.kinds.add(String(type));
      current.problems.push({ column: column === null ? '' : String(column), reason: rejectReason(String(type), String(message)) });
    }
  }
  if (current) yield current;
}

/** An iterator whose next value can be looked at before it is taken. */
class Peekable<T> {
  private head: IteratorResult<T> | undefined;

  constructor(private readonly source: AsyncIterator<T>) {}

  async peek(): Promise<T | undefined> {
    this.head ??= await this.source.next();
    return this.head.done ? undefined : this.head.value;
  }

  take(): void {
    this.head = undefined;
  }
}

interface StagedCounts {
  rowsTotal: number;
  rowsRefused: number;
  header: FocusHeader;
}

/** How DuckDB reads the bill: its columns and their types, and the FROM of its rows. */
interface BillSource {
  columns: { name: string; type: string }[];
  from: string;
  /** CSV: the FROM that also stores each line it cannot split in reject_errors (DuckDB 1.5's store_rejects). */
  rejecting?: string;
}

const partPaths = (parts: SpooledPart[]) => `[${parts.map((part) => sqlText(part.path)).join(', ')}]`;

/** CSV: the dialect told, not guessed (a FOCUS export is RFC 4180); the columns as the header names them, all text. */
async function csvSource(parts: SpooledPart[], gzip: boolean): Promise<BillSource> {
  const names = await csvHeader(parts[0], gzip);
  for (const part of parts.slice(1)) {
    const other = await csvHeader(part, gzip);
    if (other.length !== names.length || other.some((name, at) => name !== names[at])) {
      throw new FileRefused('parts_differ', `the parts of a bill must have the same columns in the same order: ${part.name}'s differ from ${parts[0].name}'s`);
    }
  }
  const columns = names.map((name, at) => ({ name: name || `column${at + 1}`, type: 'VARCHAR' }));
  const read = (bad: string) => `read_csv(${partPaths(parts)}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', `
    + `columns = {${columns.map((column) => `${sqlText(column.name)}: 'VARCHAR'`).join(', ')}}, compression = '${gzip ? 'gzip' : 'none'}', ${bad})`;
  return { columns, from: read('ignore_errors = true'), rejecting: read('store_rejects = true') };
}

/** Parquet: the columns as the files type them; parts with the same column names, matched by name. */
async function parquetSource(duckdb: DuckDBConnection, parts: SpooledPart[]): Promise<BillSource> {
  const describe = async (from: string) => (await duckdb.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRows()
    .map(([name, type]) => ({ name: String(name), type: String(type) }));
  if (parts.length > 1) {
    const namesOf = async (part: SpooledPart) => (await describe(`read_parquet(${sqlText(part.path)})`)).map((column) => column.name).sort().join('\n');
    const first = await namesOf(parts[0]);
    for (const part of parts.slice(1)) {
      if (await namesOf(part) !== first) throw new FileRefused('parts_differ', `the parts of a bill must have the same columns: ${part.name}'s differ from ${parts[0].name}'s`);
    }
  }
  const from = `read_parquet(${partPaths(parts)}, union_by_name = true)`;
  return { columns: await describe(from), from };
}

/**
 * Reads the bill with DuckDB and stages it: accepted rows copied into cost_import_rows, refused
 * ones (by the check, or lines DuckDB could not split) written to `refusalsFile` and copied into
 * cost_import_refusals once the rows are in: one pooled connection at a time. A chunk of rows
 * (DuckDB's 2,048) is the most the Node heap holds. Rows are numbered across the parts in order,
 * the header lines not counted; a refused row names its part when there are several.
 */
async function stageFile(db: CostImportIntakeDeps['db'], importId: string, parts: SpooledPart[], refusalsFile: string): Promise<StagedCounts> {
  const format = costFileFormat(parts[0].head);
  const odd = parts.find((part) => costFileFormat(part.head) !== format);
  if (odd) throw new FileRefused('parts_differ', `the parts of a bill must be of one format: ${parts[0].name} is ${FORMAT_TEXT[format]}, ${odd.name} ${FORMAT_TEXT[costFileFormat(odd.head)]}`);
  const instance = await DuckDBInstance.create(':memory:', DUCKDB_SETTINGS);
  const connections: DuckDBConnection[] = [];
  const duck = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof FileRefused) throw error;
      throw new FileRefused('unreadable_file', `the file cannot be read as CSV or Parquet: ${duckReason(error, parts)}`);
    }
  };
  const out = createWriteStream(refusalsFile);
  try {
    const connect = async () => {
      const connection = await instance.connect();
      connections.push(connection);
      return connection;
    };
    const duckdb = await connect();
    // Whatever the machine's zone: no timestamp is ever read or written in it.
    await duckdb.run(`SET GLOBAL TimeZone = 'UTC'`);
    const source = format === 'parquet' ? await duck(() => parquetSource(duckdb, parts)) : await csvSource(parts, format === 'csv_gzip');
    const read = readFocusHeader(source.columns.map((column) => column.name));
    if ('missing' in read) {
      throw new FileRefused('not_focus', `not a FOCUS cost file: the column(s) ${read.missing.join(', ')} are missing`, { missing: read.missing });
    }
    const { header } = read;
    const mapped = (Object.entries(header.columnOf) as [FocusField, string][]).filter(([, column]) => column !== undefined);
    const typeOf = new Map(source.columns.map((column) => [column.name, column.type]));
    const select = mapped.map(([, column], at) => `${textOf(column, typeOf.get(column) ?? 'VARCHAR')} AS c${at}`);
    const several = parts.length > 1;
    if (several) select.push('file_index AS part');

    // CSV: a first pass stores the lines DuckDB cannot split, in file order, to be refused in their
    // places as the rows stream by, every row (refused or not) numbered in turn.
    let rejected: Peekable<RejectedLine> | undefined;
    let accepted: number | undefined;
    if (source.rejecting) {
      const rejecting = source.rejecting;
      accepted = Number((await duck(() => duckdb.runAndReadAll(`SELECT count(*) FROM ${rejecting}`))).getRows()[0][0]);
      const [[count]] = (await duckdb.runAndReadAll('SELECT count(*) FROM reject_errors')).getRows();
      if (Number(count) > 0) {
        const lines = await duckdb.stream(`
          SELECT CAST(regexp_extract(s.file_path, '(\\d+)\\.part$', 1) AS INTEGER) AS part, e.line, e.error_type, e.error_message, e.column_name, e.csv_line
            FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id) ORDER BY part, e.line, e.byte_position`);
        rejected = new Peekable(rejectedLines(lines)[Symbol.asyncIterator]());
      }
    }
    const reading = await connect();
    const result = await duck(() => reading.stream(`SELECT ${select.join(', ')} FROM ${source.from}`));

    let rowsTotal = 0;
    let rowsRefused = 0;
    const refuse = async (refusal: Omit<CostImportRefusal, 'rowNumber'>) => {
      rowsTotal += 1;
      rowsRefused += 1;
      if (!out.write(refusalLine(importId, { rowNumber: rowsTotal, ...refusal }))) await once(out, 'drain');
    };
    const partName = (part: number): Record<string, string> => (several ? { part: parts[part].name } : {});
    let part = 0;
    let nextInPart = 1;
    /** Refuses DuckDB's lines of the parts before `before`, and of part `before` up to its `nextInPart`. */
    const refuseLinesUpTo = async (before: number) => {
      for (let line = await rejected?.peek(); line && (line.part < before || (line.part === before && line.row <= nextInPart)); line = await rejected!.peek()) {
        rejected!.take();
        if (line.part === before) nextInPart += 1;
        await refuse({ problems: line.problems, line: { line: cut(line.text), ...partName(line.part) } });
      }
    };
    let streamed = 0;
    async function* lines(): AsyncIterable<string> {
      for (let chunk = await duck(() => result.fetchChunk()); chunk && chunk.rowCount > 0; chunk = await duck(() => result.fetchChunk())) {
        let text = '';
        // Column by column: half the cost of turning each row into an array first.
        const columns = chunk.getColumns();
        const partOf = several ? columns[mapped.length] : undefined;
        streamed += chunk.rowCount;
        for (let index = 0; index < chunk.rowCount; index += 1) {
          const at = partOf ? Number(partOf[index]) : 0;
          if (at !== part) {
            part = at;
            nextInPart = 1;
          }
          if (rejected) await refuseLinesUpTo(part);
          nextInPart += 1;
          const values: FocusValues = {};
          for (let column = 0; column < mapped.length; column += 1) {
            const value = columns[column][index];
            values[mapped[column][0]] = value === null || value === '' ? null : String(value);
          }
          const checked = checkFocusRow(values);
          if ('line' in checked) {
            rowsTotal += 1;
            text += stagedRowLine(importId, rowsTotal, checked.line);
            continue;
          }
          await refuse({
            problems: checked.problems,
            line: { ...Object.fromEntries(mapped.map(([field, column]) => [column, cut(values[field] ?? null)])), ...partName(part) },
          });
        }
        if (text) yield text;
      }
      await refuseLinesUpTo(parts.length);
      // Skipping bad lines, DuckDB skips whatever fails: rows lost for any other reason (memory) must not pass unseen.
      if (accepted !== undefined && streamed !== accepted) throw new Error(`DuckDB read ${streamed} rows of the file, where its first reading counted ${accepted}`);
    }
    try {
      await copyStagedRows(db, lines());
    } catch (error) {
      // A value the check let through that Postgres still refuses (data exception, class 22) is the file's fault.
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('22')) throw new FileRefused('unreadable_file', `a row could not be staged: ${(error as Error).message}`);
      throw error;
    }
    out.end();
    await finished(out);
    if (rowsRefused > 0) await copyRefusals(db, createReadStream(refusalsFile));
    return { rowsTotal, rowsRefused, header };
  } finally {
    out.destroy();
    for (const connection of connections) connection.closeSync();
    instance.closeSync();
  }
}
const NOT_STARTED = 'its workflow could not be started (the workflow service did not answer in time); nothing was written, '
  + 'nor will be should the start arrive late: send the file again';

/** Leaves the request's files unread: drained, so that the answer goes out on its connection. */
function leaveUnread(request: CostImportRequest): void {
  if ('file' in request) request.file.resume();
  else void request.parts[Symbol.asyncIterator]().return?.();
}

/**
 * Receives a bill (a file, or the parts of one): spools it, answers the import the same bill became
 * (repeated; one left staging by a process that stopped is failed first, and the bill taken anew),
 * else records an import, stages its rows and starts its workflow. Throws HttpError: 503 busy
 * (COST_IMPORTS_AT_ONCE are being received: nothing is read), 413 (too large: nothing is kept), 422
 * not_focus (the required FOCUS columns are missing, named), parts_differ (parts of another format
 * or other columns) or unreadable_file (not CSV or Parquet, broken gzip): the import is kept,
 * failed, with the reason; 503 or 504 (its workflow could not be started: failed, and nothing of it
 * is ever written).
 */
export async function receiveCostImport(deps: CostImportIntakeDeps, request: CostImportRequest): Promise<ReceivedCostImport> {
  const { db, temporal, taskQueue } = deps;
  let release: () => void;
  try {
    release = takeIntakePlace();
  } catch (error) {
    leaveUnread(request);
    throw error;
  }
  const base = path.join(os.tmpdir(), 'assetflow-cost-imports');
  const dir = path.join(base, randomUUID());
  try {
    await fs.mkdir(dir, { recursive: true });
    const parts = await spoolParts(request, dir, deps.costImportMaxBytes ?? COST_IMPORT_MAX_BYTES);
    const fileSha256 = identityOf(parts);
    const fileName = request.fileName ?? importName(parts);
    const fileBytes = parts.reduce((sum, part) => sum + part.bytes, 0);
    const repeated = async () => {
      const earlier = await findCostImportOfFile(db, fileSha256);
      return earlier && { ...earlier, repeated: true };
    };
    await abandonCostImports(db, COST_IMPORT_ABANDONED_AFTER_MS, fileSha256);
    const earlier = await repeated();
    if (earlier) return earlier;
    const format = costFileFormat(parts[0].head);
    let importId: string;
    try {
      importId = await insertCostImport(db, { fileName, fileSha256, fileBytes, format, source: request.source, requestedById: request.requestedBy.id });
    } catch (error) {
      // The same bill sent twice at once: the first insert wins, the second answers it.
      const winner = isUniqueViolation(error, 'cost_imports_file_unique') ? await repeated() : null;
      if (winner) return winner;
      throw error;
    }
    let staged: StagedCounts;
    // Touched while it stages, however long the file takes: one that stops being touched was left.
    const alive = setInterval(() => {
      touchCostImport(db, importId).catch(() => undefined);
    }, TOUCH_EVERY_MS);
    try {
      staged = await stageFile(db, importId, parts, path.join(dir, 'refusals.csv'));
    } catch (error) {
      const refused = error instanceof FileRefused;
      await failCostImport(db, importId, refused ? error.message : `the file could not be staged: ${(error as Error).message}`);
      if (refused) throw new HttpError(422, error.code, error.message, { ...error.details, import: (await findCostImport(db, { id: importId }))?.number });
      throw error;
    } finally {
      clearInterval(alive);
    }
    const workflowId = costImportWorkflowId(importId);
    const marked = await db.transaction(async (trx) => {
      if (!await markCostImportStaged(trx, importId, { rowsTotal: staged.rowsTotal, rowsRefused: staged.rowsRefused, focusVersion: staged.header.version, workflowId })) return false;
      await insertAuditRow(trx, {
        actor: request.requestedBy.email, subjectType: 'cost_import', subjectId: importId, action: 'cost_import_received', fromState: 'staging', toState: 'staged',
        details: {
          fileName, format, source: request.source, bytes: fileBytes, sha256: fileSha256, focusVersion: staged.header.version,
          rowsTotal: staged.rowsTotal, rowsRefused: staged.rowsRefused, ignoredColumns: staged.header.ignored,
          ...(parts.length > 1 ? { parts: parts.map((part) => ({ name: part.name, bytes: part.bytes, sha256: part.sha256 })) } : {}),
        },
      });
      return true;
    });
    if (!marked) {
      // Taken as abandoned meanwhile (no touch got through for long): its rows go, and the bill may be sent again.
      await failCostImport(db, importId, 'abandoned while it was staged');
      throw new HttpError(503, 'unavailable', 'the import was taken as abandoned while its rows were staged (the database did not answer for long): nothing was written; send the bill again', undefined, BUSY_RETRY_AFTER_SECONDS);
    }
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
    release();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Fails the imports a stopped API process left staging (at the API's start): their bills answered
 * `repeated` with a dead import until then. Logs the numbers; a database that cannot answer now
 * delays nothing (a bill sent again is looked at anyway).
 */
export async function sweepAbandonedCostImports(deps: { db: CostImportIntakeDeps['db']; logger: Logger }): Promise<void> {
  try {
    const numbers = await abandonCostImports(deps.db, COST_IMPORT_ABANDONED_AFTER_MS);
    if (numbers.length > 0) deps.logger.warn({ imports: numbers }, 'cost imports left staging by a stopped process were failed; their bills may be sent again');
  } catch (error) {
    deps.logger.warn({ err: error }, 'could not look for cost imports left staging');
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
