/**
 * Cloud bills in FOCUS (issue 17): the import row, the rows staged for the workflow (copied in with
 * COPY, so a million rows never wait in the Node heap) and the refusals report. Read by the API and
 * the web UI; staged by the intake (api/cost-import-intake.ts); the workflow writes the rest.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { FocusField, FocusLine, RowProblem } from '../domain/focus';
import type { CostImportState, CostTotal } from '../workflows/cost-import/contract';
import { paginate, type Page } from './page';

export const COST_IMPORT_FORMATS = ['csv', 'csv_gzip', 'parquet'] as const;
export type CostImportFormat = (typeof COST_IMPORT_FORMATS)[number];
export type CostImportSource = 'api' | 'drop_folder';

/** A provider, billing account ('' when the bill names none) and billing period: a later file of the scope replaces its records. */
export interface CostImportScope {
  provider: string;
  billingAccountId: string;
  billingPeriodStart: string;
}

export interface CostImportSummary {
  id: string;
  number: string;
  fileName: string;
  fileSha256: string;
  fileBytes: number;
  format: CostImportFormat;
  focusVersion: string | null;
  source: CostImportSource;
  state: CostImportState;
  rowsTotal: number;
  rowsRefused: number;
  rowsImported: number;
  scopes: CostImportScope[];
  /** Per provider and currency, as the workflow wrote them; empty until it completes. */
  totals: CostTotal[];
  message: string | null;
  /** The requester's email. */
  requestedBy: string | null;
  requestedById: string | null;
  workflowId: string | null;
  createdAt: string;
  finishedAt: string | null;
}

interface CostImportRecord {
  id: string;
  number: string;
  file_name: string;
  file_sha256: string;
  file_bytes: number;
  format: CostImportFormat;
  focus_version: string | null;
  source: CostImportSource;
  state: CostImportState;
  rows_total: number;
  rows_refused: number;
  rows_imported: number;
  scopes: CostImportScope[];
  totals: CostTotal[];
  message: string | null;
  requested_by: string | null;
  requested_by_id: string | null;
  workflow_id: string | null;
  created_at: Date;
  finished_at: Date | null;
}

const selectCostImports = (db: Knex) => db('cost_imports as ci').leftJoin('people as p', 'p.id', 'ci.requested_by_id')
  .select('ci.id', 'ci.number', 'ci.file_name', 'ci.file_sha256', 'ci.file_bytes', 'ci.format', 'ci.focus_version', 'ci.source', 'ci.state',
    'ci.rows_total', 'ci.rows_refused', 'ci.rows_imported', 'ci.scopes', 'ci.totals', 'ci.message', 'p.email as requested_by',
    'ci.requested_by_id', 'ci.workflow_id', 'ci.created_at', 'ci.finished_at');

const toSummary = (r: CostImportRecord): CostImportSummary => ({
  id: r.id,
  number: r.number,
  fileName: r.file_name,
  fileSha256: r.file_sha256,
  fileBytes: r.file_bytes,
  format: r.format,
  focusVersion: r.focus_version,
  source: r.source,
  state: r.state,
  rowsTotal: r.rows_total,
  rowsRefused: r.rows_refused,
  rowsImported: r.rows_imported,
  scopes: r.scopes,
  totals: r.totals,
  message: r.message,
  requestedBy: r.requested_by,
  requestedById: r.requested_by_id,
  workflowId: r.workflow_id,
  createdAt: r.created_at.toISOString(),
  finishedAt: r.finished_at?.toISOString() ?? null,
});

export async function findCostImport(db: Knex, by: { id: string } | { number: string }): Promise<CostImportSummary | null> {
  const row = await selectCostImports(db).where('id' in by ? { 'ci.id': by.id } : { 'ci.number': by.number }).first();
  return row ? toSummary(row) : null;
}

/** The import holding a file: any that did not fail (cost_imports_file_unique keeps it to one). */
export async function findCostImportOfFile(db: Knex, fileSha256: string): Promise<CostImportSummary | null> {
  const row = await selectCostImports(db).where('ci.file_sha256', fileSha256).whereNot('ci.state', 'failed').first();
  return row ? toSummary(row) : null;
}

/** Cost imports, newest first. */
export function listCostImports(db: Knex, page: { limit: number; offset: number }): Promise<Page<CostImportSummary>> {
  const q = selectCostImports(db).orderBy('ci.created_at', 'desc').orderBy('ci.number', 'desc');
  return paginate<CostImportRecord, CostImportSummary>(q, page, toSummary);
}

/** A refused row: its number in the file, every problem, and the row as read (long values cut). */
export interface CostImportRefusal {
  rowNumber: number;
  problems: RowProblem[];
  line: Record<string, string | null>;
}

interface RefusalRecord {
  row_number: number;
  problems: RowProblem[];
  line: Record<string, string | null>;
}

const toRefusal = (r: RefusalRecord): CostImportRefusal => ({ rowNumber: r.row_number, problems: r.problems, line: r.line });

/** One page of the refused rows, in file order. */
export function costImportRefusalsPage(db: Knex, importId: string, page: { limit: number; offset: number }): Promise<Page<CostImportRefusal>> {
  const q = db('cost_import_refusals').where({ import_id: importId }).select('row_number', 'problems', 'line').orderBy('row_number');
  return paginate<RefusalRecord, CostImportRefusal>(q, page, toRefusal);
}

/** Every refused row in file order, read in batches (a file may refuse a million rows). */
export async function* costImportRefusals(db: Knex, importId: string, batch = 1000): AsyncIterable<CostImportRefusal> {
  for (let after = 0; ;) {
    const rows = await db('cost_import_refusals').where({ import_id: importId }).where('row_number', '>', after)
      .orderBy('row_number').limit(batch).select('row_number', 'problems', 'line') as RefusalRecord[];
    for (const row of rows) yield toRefusal(row);
    if (rows.length < batch) return;
    after = rows[rows.length - 1].row_number;
  }
}

// The intake's writes.

export interface NewCostImport {
  fileName: string;
  fileSha256: string;
  fileBytes: number;
  format: CostImportFormat;
  source: CostImportSource;
  requestedById: string;
}

/** Inserts the import, staging; a file a live import holds fails with the unique violation of cost_imports_file_unique. */
export async function insertCostImport(db: Knex, file: NewCostImport): Promise<string> {
  const [row] = await db('cost_imports').insert({
    file_name: file.fileName, file_sha256: file.fileSha256, file_bytes: file.fileBytes, format: file.format, source: file.source,
    requested_by_id: file.requestedById,
  }).returning('id');
  return row.id as string;
}

/** The staged columns in COPY order, after the import and the row number. */
const STAGED_FIELDS: readonly Exclude<FocusField, 'tags'>[] = [
  'billingPeriodStart', 'billingPeriodEnd', 'chargePeriodStart', 'chargePeriodEnd', 'chargeCategory', 'chargeClass', 'chargeDescription',
  'providerName', 'publisherName', 'invoiceIssuerName', 'billingAccountId', 'subAccountId', 'serviceName', 'serviceCategory', 'resourceId',
  'resourceName', 'resourceType', 'regionName', 'billedCost', 'effectiveCost', 'listCost', 'contractedCost', 'consumedQuantity', 'billingCurrency',
];
const snake = (field: string) => field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
const COPY_STAGED_ROWS = `COPY cost_import_rows (import_id, row_number, ${STAGED_FIELDS.map(snake).join(', ')}, tags) FROM STDIN WITH (FORMAT csv)`;

/** A CSV cell as COPY reads it: nothing is NULL, anything else quoted (a quoted empty cell is an empty text). */
const cell = (value: string | null | undefined) => (value === null || value === undefined ? '' : `"${value.replace(/"/g, '""')}"`);

/** A checked row as a line of the COPY into cost_import_rows. */
export function stagedRowLine(importId: string, rowNumber: number, line: FocusLine): string {
  const values = line as unknown as Record<string, string | null>;
  return `${importId},${rowNumber},${STAGED_FIELDS.map((field) => cell(values[field])).join(',')},${cell(JSON.stringify(line.tags))}\n`;
}

/**
 * Copies the checked rows into cost_import_rows on one pooled connection, as fast as Postgres takes
 * them (the source is read only as the COPY drains it); answers when the COPY has ended.
 */
export async function copyStagedRows(db: Knex, lines: AsyncIterable<string>): Promise<void> {
  const connection = await db.client.acquireConnection() as PoolClient;
  try {
    // One chunk of lines waits at most: the source is not read ahead of the COPY.
    await pipeline(Readable.from(lines, { highWaterMark: 1 }), connection.query(copyFrom(COPY_STAGED_ROWS)));
  } finally {
    await db.client.releaseConnection(connection);
  }
}

const COPY_REFUSALS = 'COPY cost_import_refusals (import_id, row_number, problems, line) FROM STDIN WITH (FORMAT csv)';

/** A refused row as a line of the COPY into cost_import_refusals: the intake writes these to a file while it reads. */
export function refusalLine(importId: string, refusal: CostImportRefusal): string {
  return `${importId},${refusal.rowNumber},${cell(JSON.stringify(refusal.problems))},${cell(JSON.stringify(refusal.line))}\n`;
}

/** Copies refusal lines (refusalLine) into cost_import_refusals on one pooled connection. */
export async function copyRefusals(db: Knex, lines: Readable): Promise<void> {
  const connection = await db.client.acquireConnection() as PoolClient;
  try {
    await pipeline(lines, connection.query(copyFrom(COPY_REFUSALS)));
  } finally {
    await db.client.releaseConnection(connection);
  }
}

/** Says a staging import is alive: one whose process died stops being touched, and is then taken as abandoned. */
export async function touchCostImport(db: Knex, importId: string): Promise<void> {
  await db('cost_imports').where({ id: importId, state: 'staging' }).update({ updated_at: db.fn.now() });
}

/**
 * The file is read: its counts, its FOCUS version, and the scopes of its staged rows (computed in
 * Postgres from the rows themselves) are stored, and it is staged for its workflow.
 */
export async function markCostImportStaged(db: Knex, importId: string, read: { rowsTotal: number; rowsRefused: number; focusVersion: string; workflowId: string }): Promise<boolean> {
  const marked = await db('cost_imports').where({ id: importId, state: 'staging' }).update({
    rows_total: read.rowsTotal,
    rows_refused: read.rowsRefused,
    focus_version: read.focusVersion,
    workflow_id: read.workflowId,
    state: 'staged',
    updated_at: db.fn.now(),
    scopes: db.raw(`(
      SELECT coalesce(jsonb_agg(jsonb_build_object('provider', s.provider_name, 'billingAccountId', s.billing_account_id,
        'billingPeriodStart', to_char(s.billing_period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
        ORDER BY s.provider_name, s.billing_account_id, s.billing_period_start), '[]'::jsonb)
      FROM (SELECT DISTINCT provider_name, coalesce(billing_account_id, '') AS billing_account_id, billing_period_start
        FROM cost_import_rows WHERE import_id = ?) s)`, [importId]),
  });
  return marked > 0;
}

/**
 * An import that will not be written: failed with the reason, its staged rows dropped (the
 * refusals stay: they are its report). Only while its workflow has not begun writing (staging or
 * staged), so a workflow that started after all finds it failed and writes nothing. Answers whether
 * it was marked. Its staged rows go whoever failed it: rows a COPY committed after another process
 * took the import as abandoned go with them.
 */
export async function failCostImport(db: Knex, importId: string, message: string): Promise<boolean> {
  return db.transaction(async (trx) => {
    const marked = await trx('cost_imports').where({ id: importId }).whereIn('state', ['staging', 'staged'])
      .update({ state: 'failed', message, finished_at: trx.fn.now(), updated_at: trx.fn.now() });
    const failed = marked > 0 || !!(await trx('cost_imports').where({ id: importId, state: 'failed' }).first('id'));
    if (failed) await trx('cost_import_rows').where({ import_id: importId }).delete();
    return marked > 0;
  });
}

const ABANDONED = 'abandoned: the API process reading the file stopped before it was staged; nothing was written: send the file again';

/**
 * Fails the imports left staging (or staged without a workflow) by a process that died: not touched
 * for `staleForMs`. One UPDATE whose condition Postgres checks again on each locked row, so an
 * import touched meanwhile is left alone; a staged import with its workflow is the workflow's.
 * Only the file's, when given. Answers the numbers failed.
 */
export async function abandonCostImports(db: Knex, staleForMs: number, fileSha256?: string): Promise<string[]> {
  return db.transaction(async (trx) => {
    const stale = trx('cost_imports').whereIn('state', ['staging', 'staged']).whereNull('workflow_id')
      .where('updated_at', '<', trx.raw(`now() - make_interval(secs => ?)`, [staleForMs / 1000]));
    if (fileSha256 !== undefined) stale.where({ file_sha256: fileSha256 });
    const failed = await stale.update({ state: 'failed', message: ABANDONED, finished_at: trx.fn.now(), updated_at: trx.fn.now() })
      .returning(['id', 'number']) as { id: string; number: string }[];
    if (failed.length > 0) await trx('cost_import_rows').whereIn('import_id', failed.map((i) => i.id)).delete();
    return failed.map((i) => i.number);
  });
}

