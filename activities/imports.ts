import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { afterCheck, OUTCOME_OF_VERDICT, type OnInvalidRows, type RowCounts } from '../domain/master-data';
import { isInvalidData } from '../domain/failure-classes';
import {
  applyInSavepoint,
  assetsWithMovedDates,
  chunkRows,
  countImportRows,
  findImport,
  finishImportRow,
  importStateOf,
  refusedWhenApplied,
  refuseRepeatedKeys,
  requesterEmailOf,
  rowsRefusedWhenApplied,
  storeCounts,
  storeOutcomes,
  storeVerdicts,
  type AppliedRow,
  type CheckedRow,
  type StagedRowRecord,
} from '../model/imports';
import { masterDataKind } from '../model/master-data';
import { judgeRow, Lookups, writeJudgement, type WriteSource } from '../model/master-data/engine';
import type { MasterDataKind } from '../model/master-data/kind';
import {
  ImportFailure,
  type CloseCheckInput,
  type CloseCheckResult,
  type FinishImportInput,
  type ImportChunkInput,
  type ImportChunkResult,
  type ImportOutcome,
} from '../workflows/master-data-import/contract';
import { applyInventoryChunk, checkInventoryChunk, refuseRepeatedDevices } from '../model/reconciliation/batch';
import type { ApprovalTimings } from '../workflows/approvals/contract';
import type { ReminderSettings } from '../workflows/asset-lifecycle/contract';
import { tellEndOfTermDates } from './lifecycle-transitions';
import { recordOnce } from './audit';

export interface ImportActivityDeps {
  db: Knex;
  /** Tells the lifecycle workflows of imported assets their new warranty and lease end. */
  temporal: Client;
  /** Inventory batches create assets, whose lifecycle workflows start on this queue. */
  lifecycle: { taskQueue: string; reminders: ReminderSettings };
  /** The approval clock of the steward cases held rows open. */
  approvalTimings: ApprovalTimings;
}

const SYSTEM = 'system:master-data-import';

/** Rows of a chunk judged at once in the check: it only reads, and most of its time is round trips. */
const CHECK_CONCURRENCY = 4;

/** `work` on every item, at most `limit` at a time, the answers in the items' order. */
async function inOrder<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const answers = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const at = next++;
      answers[at] = await work(items[at]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return answers;
}

const noSuchImport = (importId: string) =>
  ApplicationFailure.create({ type: ImportFailure.importNotFound, message: `no import ${importId}`, nonRetryable: true });

/**
 * The check refuses an import the API marked failed before it began (it could not tell whether the
 * start reached Temporal, and told the requester to upload again): a start that arrives late must
 * not apply the file a second time.
 */
async function refuseAbandoned(db: Knex, importId: string): Promise<void> {
  const state = await importStateOf(db, importId);
  if (state === null) throw noSuchImport(importId);
  if (state === 'failed') {
    throw ApplicationFailure.create({
      type: ImportFailure.importAbandoned, message: 'the import was marked failed before its check began; nothing of it is written', nonRetryable: true,
    });
  }
}

/** Signals to the lifecycle workflows at once, after a chunk: the server answers them without a worker. */
const SIGNAL_CONCURRENCY = 8;

/**
 * Tells the running lifecycle workflow of each asset whose warranty or lease end a committed chunk
 * changed the dates as they are now, so that its reminders follow them. Read from the chunk's
 * outcomes rather than this attempt's writes: a retry after the commit finds nothing to write, and
 * still tells them (twice is harmless, the workflow keeps the newest record version). An asset
 * without a running workflow gets its dates from the row when its workflow starts.
 */
async function tellLifecyclesTheirDates(db: Knex, temporal: Client, input: ImportChunkInput): Promise<void> {
  const moved = await assetsWithMovedDates(db, input.importId, input.from, input.to);
  await inOrder(moved, SIGNAL_CONCURRENCY, (asset) => tellEndOfTermDates(temporal, asset.assetTag, asset.change));
}

/** Judges a row again under its lock and writes what the judgement allows, with its audit row. */
async function applyRow(trx: Knex.Transaction, kind: MasterDataKind, lookups: Lookups, row: StagedRowRecord, source: WriteSource): Promise<AppliedRow> {
  const judgement = await judgeRow(kind, lookups, row.record!, { lock: true });
  // Something changed since the check (a reference retired, another import took the key): reported, not written.
  if (judgement.verdict === 'refuse') return refusedWhenApplied(row, judgement.problems);
  const recordId = await writeJudgement(trx, kind, judgement, source);
  return {
    rowNumber: row.row_number,
    outcome: OUTCOME_OF_VERDICT[judgement.verdict],
    recordId,
    problems: [],
    changes: judgement.verdict === 'update' ? judgement.changes : null,
  };
}

/**
 * A row in a savepoint of its own: a row the database refuses (a constraint the kind does not
 * check) is reported refused and the others go through. A unique violation is tried once more:
 * it is most likely another import that wrote the same key meanwhile, whose record the second
 * judgement finds; if it happens again, the row's data is at fault.
 */
function applyRowAlone(trx: Knex.Transaction, kind: MasterDataKind, row: StagedRowRecord, source: WriteSource): Promise<AppliedRow> {
  return applyInSavepoint(trx, row, (savepoint) => applyRow(savepoint, kind, new Lookups(savepoint), row, source));
}

/** The activities of a bulk import: check a chunk, close the check, apply a chunk, finish. */
export function createImportActivities({ db, temporal, lifecycle, approvalTimings }: ImportActivityDeps) {
  async function applyChunk(input: ImportChunkInput, kind: MasterDataKind, source: WriteSource, rowAlone: boolean): Promise<ImportChunkResult> {
    return db.transaction(async (trx) => {
      // Rows applied already (by an earlier attempt, or a run of this chunk that got here first and
      // committed while this one waited on the lock) are not taken again.
      const rows = (await chunkRows(trx, input.importId, input.from, input.to).whereNull('outcome').forUpdate()) as StagedRowRecord[];
      const lookups = new Lookups(trx);
      const applied: AppliedRow[] = [];
      for (const row of rows) {
        if (row.record === null || row.verdict !== 'create' && row.verdict !== 'update' && row.verdict !== 'unchanged') {
          applied.push(refusedWhenApplied(row, row.problems));
          continue;
        }
        const via = { ...source, via: { importId: input.importId, rowNumber: row.row_number } };
        applied.push(rowAlone ? await applyRowAlone(trx, kind, row, via) : await applyRow(trx, kind, lookups, row, via));
      }
      return { rowsDone: await storeOutcomes(trx, input.importId, input.from, input.to, applied) };
    });
  }

  return {
    /**
     * Judges rows `from` to `to` as applying them would (reads only) and stores each verdict with
     * its natural key, problems and changes. Checking a chunk again stores the same and counts nothing twice.
     */
    async checkImportChunk(input: ImportChunkInput): Promise<ImportChunkResult> {
      await refuseAbandoned(db, input.importId);
      if (input.kind === 'inventory') {
        const checked = await checkInventoryChunk(db, input.importId, input.from, input.to);
        return { rowsDone: await db.transaction((trx) => storeVerdicts(trx, input.importId, input.from, input.to, checked)) };
      }
      const kind = masterDataKind(input.kind);
      const rows = (await chunkRows(db, input.importId, input.from, input.to)) as StagedRowRecord[];
      const lookups = new Lookups(db);
      const checked = await inOrder(rows, CHECK_CONCURRENCY, async (row): Promise<CheckedRow> => {
        // A line that could not be parsed was given its problem when it was staged.
        if (row.record === null) return { rowNumber: row.row_number, verdict: 'refuse', naturalKey: null, problems: row.problems, changes: null };
        const judgement = await judgeRow(kind, lookups, row.record);
        return {
          rowNumber: row.row_number,
          verdict: judgement.verdict,
          naturalKey: judgement.naturalKey,
          problems: judgement.problems,
          changes: judgement.verdict === 'update' ? judgement.changes : null,
        };
      });
      return { rowsDone: await db.transaction((trx) => storeVerdicts(trx, input.importId, input.from, input.to, checked)) };
    },

    /** Once every row is checked: refuses keys the file names twice, counts the verdicts, and says what comes next. */
    async closeImportCheck(input: CloseCheckInput): Promise<CloseCheckResult> {
      await refuseAbandoned(db, input.importId);
      if (input.kind === 'inventory') await refuseRepeatedDevices(db, input.importId);
      else await refuseRepeatedKeys(db, input.importId, masterDataKind(input.kind).keyColumns.join(' + '));
      const counts = await countImportRows(db, input.importId, 'verdict');
      await storeCounts(db, input.importId, counts);
      return { counts, next: afterCheck(input, counts) };
    },

    /**
     * Applies rows `from` to `to` in one transaction: each row without an outcome is locked, judged
     * again under the lock of its record and written with its audit row, and its outcome stored in
     * the same transaction, so each row is applied exactly once however often the chunk runs. When
     * the database refuses a row, the chunk runs again a row at a time so that only that row is refused.
     */
    async applyImportChunk(input: ImportChunkInput): Promise<ImportChunkResult> {
      if (input.kind === 'inventory') return { rowsDone: await applyInventoryChunk({ db, temporal, lifecycle, approvalTimings }, input.importId, input.from, input.to) };
      const kind = masterDataKind(input.kind);
      const actor = await requesterEmailOf(db, input.importId);
      if (!actor) throw noSuchImport(input.importId);
      const source: WriteSource = { actor, via: { importId: input.importId, rowNumber: 0 } };
      const applied = await applyChunk(input, kind, source, false).catch((error: unknown) => {
        if (!isInvalidData(error)) throw error;
        return applyChunk(input, kind, source, true);
      });
      if (kind.name === 'assets') await tellLifecyclesTheirDates(db, temporal, input);
      return applied;
    },

    /** Ends the import in its final state with its counts (counted from its rows) and the reason, once, audited. */
    async finishImport(input: FinishImportInput): Promise<ImportOutcome> {
      const counts = await countImportRows(db, input.importId, input.state === 'completed' ? 'outcome' : 'verdict');
      const message = input.message ?? await messageOf(db, input.importId, input.state, counts);
      const outcome: ImportOutcome = { state: input.state, counts, message };
      return recordOnce(
        db,
        { idempotencyKey: input.idempotencyKey, actor: SYSTEM, subjectType: 'import', subjectId: input.importId, action: `import_${input.state}`, workflowId: input.workflowId },
        async (trx) => {
          await finishImportRow(trx, input.importId, input.state, counts, message);
          return { result: outcome, details: { counts, message } };
        },
      );
    },
  };
}

/**
 * What the requester must know beyond the counts. Under reject_file a completed import with a
 * refused row was not applied whole: that row passed the check, but the data changed before it
 * was written, and the rows around it were written all the same.
 */
async function messageOf(db: Knex, importId: string, state: FinishImportInput['state'], counts: RowCounts): Promise<string | null> {
  if (state === 'refused') return `${counts.refuse ?? 0} row(s) refused by the check: under reject_file nothing was written; see the report`;
  if (state !== 'completed' || (counts.refused ?? 0) === 0) return null;
  const policy: OnInvalidRows | undefined = (await findImport(db, importId))?.onInvalidRows;
  const whenWritten = await rowsRefusedWhenApplied(db, importId);
  const atApply = `${whenWritten.rows} row(s) passed the check but were refused when written (the data changed meanwhile), the first at row ${whenWritten.firstRow}`;
  if (policy === 'reject_file') {
    return `not applied whole: ${atApply}; the other rows were written. Fix the rows the report names and import them again`;
  }
  return `${counts.refused} row(s) refused and not written; the other rows were applied${whenWritten.rows > 0 ? ` (${atApply})` : ''}`;
}

export type ImportActivities = ReturnType<typeof createImportActivities>;
