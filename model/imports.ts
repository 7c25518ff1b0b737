/**
 * Bulk imports of master data: the import row and its staged rows (each with its verdict in the
 * check, what applying it did, and why it was refused), read by the API and the web UI and written
 * by the upload (staging) and the import workflow's activities.
 */
import type { Knex } from 'knex';
import type {
  ColumnProblem,
  ImportFormat,
  ImportKind,
  ImportState,
  OnInvalidRows,
  RowCounts,
  RowOutcome,
  RowVerdict,
} from '../domain/master-data';
import { isInvalidData, reasonOf } from '../domain/failure-classes';
import type { AttributeChange, AttributeLeftAlone, InventorySource, RowIdentification } from '../domain/reconciliation';
import { isUniqueViolation } from '../platform/database';
import { recordVersionSql } from './assets';
import type { Row } from './master-data/kind';
import { paginate, type Page } from './page';

export interface ImportSummary {
  id: string;
  kind: ImportKind;
  format: ImportFormat;
  fileName: string | null;
  dryRun: boolean;
  onInvalidRows: OnInvalidRows;
  state: ImportState;
  rowsTotal: number;
  rowsChecked: number;
  rowsApplied: number;
  /** Rows by verdict (after the check) and by outcome (after applying). */
  counts: RowCounts;
  message: string | null;
  /** The requester's email. */
  requestedBy: string;
  requestedById: string;
  workflowId: string | null;
  createdAt: string;
  finishedAt: string | null;
  /** Inventory batches: the feed, the sender's name for the batch, and when the source saw what it reports. */
  inventory: { source: InventorySource; batchKey: string | null; observedAt: string } | null;
}

/** An inventory row's attributes: `changes` written (with the rule that allowed each), and those left alone. */
export type RowChanges = Record<string, { from: unknown; to: unknown } | AttributeChange>;

export interface ImportRowReport {
  rowNumber: number;
  naturalKey: string | null;
  verdict: RowVerdict | null;
  outcome: RowOutcome | null;
  problems: ColumnProblem[];
  changes: RowChanges | null;
  recordId: string | null;
  /** The row as uploaded; null when its line could not be parsed. */
  record: Row | null;
  /** Inventory rows: how the record was found, and the attributes offered but not written. */
  identification: RowIdentification | null;
  leftAlone: Record<string, AttributeLeftAlone> | null;
}

interface ImportRecord {
  id: string;
  kind: ImportKind;
  format: ImportFormat;
  file_name: string | null;
  dry_run: boolean;
  on_invalid_rows: OnInvalidRows;
  state: ImportState;
  rows_total: number;
  rows_checked: number;
  rows_applied: number;
  counts: RowCounts;
  message: string | null;
  requested_by: string;
  requested_by_id: string;
  workflow_id: string | null;
  created_at: Date;
  finished_at: Date | null;
  source: InventorySource | null;
  batch_key: string | null;
  observed_at: Date | null;
}

const selectImports = (db: Knex) => db('imports as i').join('people as p', 'p.id', 'i.requested_by_id')
  .select('i.id', 'i.kind', 'i.format', 'i.file_name', 'i.dry_run', 'i.on_invalid_rows', 'i.state', 'i.rows_total', 'i.rows_checked',
    'i.rows_applied', 'i.counts', 'i.message', 'p.email as requested_by', 'i.requested_by_id', 'i.workflow_id', 'i.created_at', 'i.finished_at',
    'i.source', 'i.batch_key', 'i.observed_at');

const toSummary = (r: ImportRecord): ImportSummary => ({
  id: r.id,
  kind: r.kind,
  format: r.format,
  fileName: r.file_name,
  dryRun: r.dry_run,
  onInvalidRows: r.on_invalid_rows,
  state: r.state,
  rowsTotal: r.rows_total,
  rowsChecked: r.rows_checked,
  rowsApplied: r.rows_applied,
  counts: r.counts,
  message: r.message,
  requestedBy: r.requested_by,
  requestedById: r.requested_by_id,
  workflowId: r.workflow_id,
  createdAt: r.created_at.toISOString(),
  finishedAt: r.finished_at?.toISOString() ?? null,
  inventory: r.source ? { source: r.source, batchKey: r.batch_key, observedAt: r.observed_at!.toISOString() } : null,
});

export async function findImport(db: Knex, id: string): Promise<ImportSummary | null> {
  const row = await selectImports(db).where('i.id', id).first();
  return row ? toSummary(row) : null;
}

export interface ImportFilter {
  /** Only this person's imports. */
  requestedById?: string;
  kind?: ImportKind;
  state?: ImportState;
  /** Inventory batches of this feed. */
  source?: InventorySource;
}

/** Imports, newest first. */
export function listImports(db: Knex, filter: ImportFilter, page: { limit: number; offset: number }): Promise<Page<ImportSummary>> {
  const q = selectImports(db).orderBy('i.created_at', 'desc').orderBy('i.id');
  if (filter.requestedById) q.where('i.requested_by_id', filter.requestedById);
  if (filter.kind) q.where('i.kind', filter.kind);
  if (filter.state) q.where('i.state', filter.state);
  if (filter.source) q.where('i.source', filter.source);
  return paginate<ImportRecord, ImportSummary>(q, page, toSummary);
}

export interface ImportRowFilter {
  verdict?: RowVerdict;
  outcome?: RowOutcome;
  /** Only rows with a problem: refused by the check or when applied. */
  problemsOnly?: boolean;
}

interface ImportRowRecord {
  row_number: number;
  natural_key: string | null;
  verdict: RowVerdict | null;
  outcome: RowOutcome | null;
  problems: ColumnProblem[];
  changes: RowChanges | null;
  record_id: string | null;
  record: Row | null;
  identification: RowIdentification | null;
  left_alone: Record<string, AttributeLeftAlone> | null;
}

const toRowReport = (r: ImportRowRecord): ImportRowReport => ({
  rowNumber: r.row_number,
  naturalKey: r.natural_key,
  verdict: r.verdict,
  outcome: r.outcome,
  problems: r.problems,
  changes: r.changes,
  recordId: r.record_id,
  record: r.record,
  identification: r.identification,
  leftAlone: r.left_alone,
});

/** One page of an import's rows in file order: the row report. */
export function importRowsPage(db: Knex, importId: string, filter: ImportRowFilter, page: { limit: number; offset: number }): Promise<Page<ImportRowReport>> {
  const q = db('import_rows').where({ import_id: importId })
    .select('row_number', 'natural_key', 'verdict', 'outcome', 'problems', 'changes', 'record_id', 'record', 'identification', 'left_alone')
    .orderBy('row_number');
  if (filter.verdict) q.where('verdict', filter.verdict);
  if (filter.outcome) q.where('outcome', filter.outcome);
  if (filter.problemsOnly) q.where((w) => w.where('verdict', 'refuse').orWhere('outcome', 'refused'));
  return paginate<ImportRowRecord, ImportRowReport>(q, page, toRowReport);
}

/** One problem of a refused row, as the refusal report lists it. */
export interface RowProblem extends ColumnProblem {
  rowNumber: number;
}

/** Every problem of every refused row, in file order, read in batches (a file may refuse a million rows). */
export async function* refusedRowProblems(db: Knex, importId: string, batch = 1000): AsyncIterable<RowProblem> {
  for (let after = 0; ;) {
    const rows = await db('import_rows').where({ import_id: importId }).where('row_number', '>', after)
      .where((w) => w.where('verdict', 'refuse').orWhere('outcome', 'refused'))
      .orderBy('row_number').limit(batch).select('row_number', 'problems') as Pick<ImportRowRecord, 'row_number' | 'problems'>[];
    for (const row of rows) {
      for (const problem of row.problems) yield { rowNumber: row.row_number, ...problem };
    }
    if (rows.length < batch) return;
    after = rows[rows.length - 1].row_number;
  }
}

// Staging: the upload's writes.

export interface NewImport {
  kind: ImportKind;
  format: ImportFormat;
  fileName: string | null;
  dryRun: boolean;
  onInvalidRows: OnInvalidRows;
  requestedById: string;
  /** Inventory batches only. */
  inventory?: { source: InventorySource; batchKey: string | null; observedAt: string };
}

export async function insertImport(db: Knex, values: NewImport): Promise<string> {
  const [{ id }] = await db('imports').insert({
    kind: values.kind, format: values.format, file_name: values.fileName, dry_run: values.dryRun,
    on_invalid_rows: values.onInvalidRows, requested_by_id: values.requestedById,
    source: values.inventory?.source ?? null, batch_key: values.inventory?.batchKey ?? null, observed_at: values.inventory?.observedAt ?? null,
  }).returning('id');
  return id;
}

/** A row of the file as staged: the row as parsed, or null and why its line could not be parsed. */
export interface StagedRow {
  rowNumber: number;
  record: Row | null;
  problems: ColumnProblem[];
}

export async function stageImportRows(db: Knex, importId: string, rows: StagedRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db('import_rows').insert(rows.map((row) => ({
    import_id: importId,
    row_number: row.rowNumber,
    record: row.record === null ? null : JSON.stringify(row.record),
    problems: JSON.stringify(row.problems),
  })));
}

export async function setImportStarted(db: Knex, importId: string, rowsTotal: number, workflowId: string): Promise<void> {
  await db('imports').where({ id: importId }).update({ rows_total: rowsTotal, workflow_id: workflowId });
}

/**
 * An import whose workflow may not have started: it stays, failed, with the reason, unless its
 * check has begun already (then the workflow runs, and the import is not failed). Answers whether
 * it was marked failed.
 */
export async function failImportNotStarted(db: Knex, importId: string, message: string): Promise<boolean> {
  const marked = await db('imports').where({ id: importId, state: 'receiving' }).update({ state: 'failed', message, finished_at: db.fn.now() });
  return marked > 0;
}

/** The import's state, or null when there is no such import. */
export async function importStateOf(db: Knex, importId: string): Promise<ImportState | null> {
  const row = await db('imports').where({ id: importId }).first('state');
  return (row?.state as ImportState | undefined) ?? null;
}

/** An upload that was refused or broke off while staging: nothing of it is kept. */
export async function deleteStagedImport(db: Knex, importId: string): Promise<void> {
  await db('imports').where({ id: importId }).delete();
}

// The import workflow's activities.

/** The staged rows `from` to `to` still to be taken by the pass: the check (any) or applying (no outcome yet, locked). */
export function chunkRows(db: Knex, importId: string, from: number, to: number): Knex.QueryBuilder {
  return db('import_rows').where({ import_id: importId }).whereBetween('row_number', [from, to]).orderBy('row_number')
    .select('row_number', 'record', 'verdict', 'problems');
}

export interface StagedRowRecord {
  row_number: number;
  record: Row | null;
  verdict: RowVerdict | null;
  problems: ColumnProblem[];
}

export interface CheckedRow {
  rowNumber: number;
  verdict: RowVerdict;
  naturalKey: string | null;
  problems: ColumnProblem[];
  changes: RowChanges | null;
  identification?: RowIdentification | null;
  leftAlone?: Record<string, AttributeLeftAlone> | null;
}

// The chunk's bounds keep each statement to its rows: the planner cannot see how few a JSON recordset holds.

/**
 * Stores a chunk's verdicts and counts the rows checked for the first time, so a chunk checked
 * again (a retry, a second run) does not count twice. Answers the import's rows checked.
 */
export async function storeVerdicts(trx: Knex.Transaction, importId: string, from: number, to: number, rows: CheckedRow[]): Promise<number> {
  const [{ first }] = (await trx.raw(`
    SELECT count(*)::int AS first FROM (
      SELECT 1 FROM import_rows WHERE import_id = ? AND row_number BETWEEN ? AND ? AND verdict IS NULL FOR UPDATE
    ) unchecked`, [importId, from, to])).rows as { first: number }[];
  await trx.raw(`
    UPDATE import_rows r SET verdict = v.verdict, natural_key = v.natural_key, problems = v.problems, changes = v.changes,
           identification = v.identification, left_alone = v.left_alone
      FROM jsonb_to_recordset(?::jsonb) AS v(row_number int, verdict text, natural_key text, problems jsonb, changes jsonb, identification jsonb, left_alone jsonb)
     WHERE r.import_id = ? AND r.row_number BETWEEN ? AND ? AND r.row_number = v.row_number`,
  [JSON.stringify(rows.map((row) => ({
    row_number: row.rowNumber, verdict: row.verdict, natural_key: row.naturalKey, problems: row.problems, changes: row.changes,
    identification: row.identification ?? null, left_alone: row.leftAlone ?? null,
  }))), importId, from, to]);
  const [{ rows_checked: rowsChecked }] = await trx('imports').where({ id: importId })
    .update({ rows_checked: trx.raw('rows_checked + ?', [first]), state: trx.raw(`CASE WHEN state = 'receiving' THEN 'checking' ELSE state END`) })
    .returning('rows_checked');
  return rowsChecked;
}

/**
 * A file names each record once: a row whose key an earlier row (that passed the check) names too
 * is refused, so the same file imported twice finds everything unchanged. Keys compare in any
 * letter case, as the kinds match them. Running it again refuses nothing more.
 */
export async function refuseRepeatedKeys(db: Knex, importId: string, column: string): Promise<void> {
  await db.raw(`
    UPDATE import_rows r
       SET verdict = 'refuse', changes = NULL,
           problems = jsonb_build_array(jsonb_build_object('column', ?::text, 'value', r.natural_key,
             'reason', 'the same key as row ' || d.first_row || ': a file names each record once'))
      FROM (SELECT row_number, first_value(row_number) OVER (PARTITION BY lower(natural_key) ORDER BY row_number) AS first_row
              FROM import_rows WHERE import_id = ? AND natural_key IS NOT NULL AND verdict <> 'refuse') d
     WHERE r.import_id = ? AND r.row_number = d.row_number AND d.first_row <> d.row_number`,
  [column, importId, importId]);
}

/**
 * Rows by verdict (what the check found) or by outcome (what applying did), counted: never
 * incremented, so a retried chunk cannot count twice.
 */
export async function countImportRows(db: Knex, importId: string, by: 'verdict' | 'outcome'): Promise<RowCounts> {
  const rows = await db('import_rows').where({ import_id: importId }).whereNotNull(by).select({ key: by }).count({ n: '*' }).groupBy(by) as
    { key: RowVerdict | RowOutcome; n: string }[];
  return Object.fromEntries(rows.map((row) => [row.key, Number(row.n)]));
}

export async function storeCounts(db: Knex, importId: string, counts: RowCounts): Promise<void> {
  await db('imports').where({ id: importId }).update({ counts: JSON.stringify(counts) });
}

export interface AppliedRow {
  rowNumber: number;
  outcome: RowOutcome;
  recordId: string | null;
  problems: ColumnProblem[];
  changes: RowChanges | null;
  identification?: RowIdentification | null;
  leftAlone?: Record<string, AttributeLeftAlone> | null;
}

/** A staged row refused when applied, with these problems. */
export const refusedWhenApplied = (row: StagedRowRecord, problems: ColumnProblem[]): AppliedRow =>
  ({ rowNumber: row.row_number, outcome: 'refused', recordId: null, problems, changes: null });

/**
 * One row applied in a savepoint of its chunk's transaction, when the chunk as a whole was refused:
 * a unique violation (another import wrote the record meanwhile) is applied once more, judged
 * again; bad data then refuses the row with the database's reason, and the other rows go through.
 */
export async function applyInSavepoint(trx: Knex.Transaction, row: StagedRowRecord, apply: (savepoint: Knex.Transaction) => Promise<AppliedRow>): Promise<AppliedRow> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await trx.transaction(apply);
    } catch (error) {
      if (!isInvalidData(error)) throw error;
      if (isUniqueViolation(error) && attempt === 1) continue;
      return refusedWhenApplied(row, [{ column: '(row)', value: null, reason: reasonOf(error) }]);
    }
  }
}

/**
 * Stores what applying a chunk's rows did, in the transaction that wrote them (whose FOR UPDATE
 * took only rows without an outcome), and advances the rows applied by as many. Answers the
 * import's rows applied.
 */
export async function storeOutcomes(trx: Knex.Transaction, importId: string, from: number, to: number, rows: AppliedRow[]): Promise<number> {
  if (rows.length > 0) {
    await trx.raw(`
      UPDATE import_rows r SET outcome = v.outcome, record_id = v.record_id, problems = v.problems, changes = v.changes,
             identification = coalesce(v.identification, r.identification), left_alone = coalesce(v.left_alone, r.left_alone)
        FROM jsonb_to_recordset(?::jsonb) AS v(row_number int, outcome text, record_id uuid, problems jsonb, changes jsonb, identification jsonb, left_alone jsonb)
       WHERE r.import_id = ? AND r.row_number BETWEEN ? AND ? AND r.row_number = v.row_number`,
    [JSON.stringify(rows.map((row) => ({
      row_number: row.rowNumber, outcome: row.outcome, record_id: row.recordId, problems: row.problems, changes: row.changes,
      identification: row.identification ?? null, left_alone: row.leftAlone ?? null,
    }))), importId, from, to]);
  }
  const [{ rows_applied: rowsApplied }] = await trx('imports').where({ id: importId })
    .update({ rows_applied: trx.raw('rows_applied + ?', [rows.length]), state: 'applying' })
    .returning('rows_applied');
  return rowsApplied;
}

/**
 * Rows that passed the check but were refused when applied (the data changed in between, or a
 * constraint the kind does not check), and the first of them.
 */
export async function rowsRefusedWhenApplied(db: Knex, importId: string): Promise<{ rows: number; firstRow: number | null }> {
  const [{ rows, first_row: firstRow }] = await db('import_rows').where({ import_id: importId, outcome: 'refused' }).whereNot('verdict', 'refuse')
    .select(db.raw('count(*)::int AS rows'), db.raw('min(row_number) AS first_row')) as { rows: number; first_row: number | null }[];
  return { rows, firstRow };
}

export async function requesterEmailOf(db: Knex, importId: string): Promise<string | null> {
  const row = await db('imports as i').join('people as p', 'p.id', 'i.requested_by_id').where('i.id', importId).first('p.email');
  return (row?.email as string | undefined) ?? null;
}

/** The import's end: its state, its counts and, for a refusal or a failure, why. */
export async function finishImportRow(db: Knex, importId: string, state: ImportState, counts: RowCounts, message: string | null): Promise<void> {
  await db('imports').where({ id: importId }).update({ state, counts: JSON.stringify(counts), message, finished_at: db.fn.now() });
}

/** The assets a chunk of an import updated with a new warranty or lease end, with the dates as stored now. */
export async function assetsWithMovedDates(db: Knex, importId: string, from: number, to: number): Promise<{ assetTag: string; change: { warrantyEnd: string | null; leaseEnd: string | null; recordVersion: number } }[]> {
  const rows: { asset_tag: string; warranty_end: string | null; lease_end: string | null; record_version: number }[] = await db('import_rows as r')
    .join('assets as a', 'a.id', 'r.record_id')
    .where({ 'r.import_id': importId, 'r.outcome': 'updated' }).whereBetween('r.row_number', [from, to])
    .whereRaw(`(r.changes -> 'warrantyEnd' IS NOT NULL OR r.changes -> 'leaseEnd' IS NOT NULL)`)
    .select('a.asset_tag', 'a.warranty_end', 'a.lease_end', db.raw(`${recordVersionSql('a')} AS record_version`));
  return rows.map((r) => ({ assetTag: r.asset_tag, change: { warrantyEnd: r.warranty_end, leaseEnd: r.lease_end, recordVersion: r.record_version } }));
}
