/**
 * An inventory batch's rows, checked and applied (issue 16): each row is identified by its class's
 * rules, reconciled attribute by attribute by source authority, and written with its provenance and
 * sightings; a row several records answer to is held, and opens a data steward's case when applied.
 * The check and the apply judge a row by the same function on the same set-based reads, so the dry
 * run's report is what the real run does.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { isInvalidData } from '../../domain/failure-classes';
import type { InventorySource } from '../../domain/reconciliation';
import { isUniqueViolation } from '../../platform/database';
import type { ApprovalTimings } from '../../workflows/approvals/contract';
import type { ReminderSettings } from '../../workflows/asset-lifecycle/contract';
import { lifecycleStartOptions } from '../../workflows/asset-lifecycle/start';
import { toAsset, type AssetRow } from '../assets';
import { applyInSavepoint, chunkRows, refusedWhenApplied, storeOutcomes, type AppliedRow, type CheckedRow, type StagedRowRecord } from '../imports';
import { settledPairKeys, startStewardCaseWorkflows } from './cases';
import { candidatesOf, identifyRow, judgeRow, refused, type BatchContext, type Judgement } from './engine-judge';
import { attributeSets, chunkLookups, currentRecords, provenanceOf, together, type ChunkLookups } from './engine-lookups';
import { writeJudgements } from './engine-write';
import { planInstallations, type InstallationPlan } from './installations';
import { nameForNewRecord, parseInventoryRow, type InventoryRow } from './inventory-row';
import { loadReconciliationRules, type ReconciliationRules } from './rules';

export interface InventoryApplyDeps {
  db: Knex;
  temporal: Client;
  /** New hardware records get an asset, whose lifecycle workflow starts on this queue. */
  lifecycle: { taskQueue: string; reminders: ReminderSettings };
  /** Held rows open steward cases, whose stewards are asked on this clock. */
  approvalTimings: ApprovalTimings;
}

/** The batch's source and the time its source saw what it reports. */
async function batchOf(db: Knex, importId: string): Promise<{ context: BatchContext; rules: ReconciliationRules }> {
  const row = await db('imports').where({ id: importId, kind: 'inventory' }).first('source', 'observed_at') as { source: InventorySource; observed_at: Date } | undefined;
  if (!row) throw new Error(`no inventory batch ${importId}`);
  const rules = await loadReconciliationRules(db);
  return { context: { source: row.source, observedAt: row.observed_at.toISOString(), authorities: rules.authorities }, rules };
}

/**
 * Judges staged rows together: parses them, reads what they name in a few set-based statements
 * (the records found locked when `lock`), identifies each and decides each attribute.
 */
async function judgeRows(db: Knex, context: BatchContext, rules: ReconciliationRules, staged: StagedRowRecord[], lock: boolean): Promise<Judgement[]> {
  const parsed: ({ rowNumber: number; row: InventoryRow } | Judgement)[] = staged.map((staged) => {
    if (staged.record === null) return refused(staged.row_number, staged.problems);
    const result = parseInventoryRow(staged.record);
    return 'problems' in result ? refused(staged.row_number, result.problems) : { rowNumber: staged.row_number, row: result.row };
  });
  const rows = parsed.filter((p): p is { rowNumber: number; row: InventoryRow } => !('verdict' in p));
  if (rows.length === 0) return parsed as Judgement[];

  const rulesOf = (row: InventoryRow) => rules.identification.get(row.ciClass) ?? [];
  const sets = attributeSets(rules.identification, new Set(rows.map((r) => r.row.ciClass)));
  // The name a new record would take, or a record would be renamed to, may be another record's.
  const names = rows.map(({ row }) => ({ ciClass: row.ciClass, name: nameForNewRecord(row) }));
  const base = await chunkLookups(db, rows.map((r) => r.row), sets, names);

  // Records several rules find may be pairs a steward settled: asked once for the whole chunk.
  const candidates = new Set(rows.flatMap(({ row }) => {
    const found = candidatesOf(rulesOf(row), row, base);
    return found.length > 1 ? found : [];
  }));
  const settled = candidates.size > 0 ? await settledPairKeys(db, [...candidates]) : new Set<string>();
  const identified = rows.map((r) => ({ ...r, identification: identifyRow(rulesOf(r.row), r.row, base, settled) }));

  const matched = identified.flatMap((r) => (r.identification.outcome === 'match' ? [r.identification.recordId] : []));
  const [records, provenance] = await together(db, [() => currentRecords(db, matched, lock), () => provenanceOf(db, matched)] as const);
  const lookups: ChunkLookups = { ...base, records, provenance };

  const listing = identified.filter((r) => r.row.software !== null && r.identification.outcome !== 'duplicate');
  const software: Map<number, InstallationPlan> = listing.length > 0
    ? await planInstallations(db, context.source, context.observedAt, listing.map((r) => ({
      rowNumber: r.rowNumber, ciId: r.identification.outcome === 'match' ? r.identification.recordId : null, software: r.row.software!,
    })))
    : new Map();

  const judged = new Map(identified.map((r) => [r.rowNumber, judgeRow(context, lookups, {
    rowNumber: r.rowNumber, row: r.row, rules: rulesOf(r.row), identification: r.identification, software: software.get(r.rowNumber) ?? null,
  })]));
  return parsed.map((p) => ('verdict' in p ? p : judged.get(p.rowNumber)!));
}

const toChecked = (j: Judgement): CheckedRow => ({
  rowNumber: j.rowNumber, verdict: j.verdict, naturalKey: j.naturalKey, problems: j.problems, changes: j.changes,
  identification: j.identification, leftAlone: j.leftAlone,
});

/** Judges rows `from` to `to` of an inventory batch as applying them would; reads only. */
export async function checkInventoryChunk(db: Knex, importId: string, from: number, to: number): Promise<CheckedRow[]> {
  const { context, rules } = await batchOf(db, importId);
  const staged = (await chunkRows(db, importId, from, to)) as StagedRowRecord[];
  return (await judgeRows(db, context, rules, staged, false)).map(toChecked);
}

/** Rows the check let through: the rest are refused with the check's problems, not judged again. */
const passed = (row: StagedRowRecord) => row.record !== null && row.verdict !== null && row.verdict !== 'refuse';

/**
 * One attempt at a chunk: its rows without an outcome locked, judged again under the lock of their
 * records and written, together (`alone` false) or each in a savepoint of its own, where a row the
 * database refuses is reported refused with the database's reason and the others go through.
 */
async function applyAttempt(db: Knex, importId: string, from: number, to: number, alone: boolean): Promise<number> {
  const { context, rules } = await batchOf(db, importId);
  return db.transaction(async (trx) => {
    // Rows applied already (an earlier attempt, or a run of this chunk that committed first) are not taken again.
    const staged = (await chunkRows(trx, importId, from, to).whereNull('outcome').forUpdate()) as StagedRowRecord[];
    const applied: AppliedRow[] = staged.filter((row) => !passed(row)).map((row) => refusedWhenApplied(row, row.problems));
    const taken = staged.filter(passed);
    if (!alone) applied.push(...await writeJudgements(trx, context, importId, await judgeRows(trx, context, rules, taken, true)));
    else for (const row of taken) applied.push(await applyRowAlone(trx, context, rules, importId, row));
    applied.sort((a, b) => a.rowNumber - b.rowNumber);
    return storeOutcomes(trx, importId, from, to, applied);
  });
}

/** A row in a savepoint of its own, judged under its records' lock and written. */
function applyRowAlone(trx: Knex.Transaction, context: BatchContext, rules: ReconciliationRules, importId: string, row: StagedRowRecord): Promise<AppliedRow> {
  return applyInSavepoint(trx, row, async (savepoint) => {
    const [written] = await writeJudgements(savepoint, context, importId, await judgeRows(savepoint, context, rules, [row], true));
    return written;
  });
}

/**
 * Closes an inventory batch's check: a batch names each device once, so a row claiming an
 * identifier (or a new name) an earlier row that passed the check claims is refused, whichever
 * identifier the two share. Without it the dry run (each row judged against the data as it was)
 * and the real run (the later row judged after the earlier one was written) would differ. Refused
 * rows claim nothing, so running it again refuses nothing more.
 */
export async function refuseRepeatedDevices(db: Knex, importId: string): Promise<void> {
  await db.raw(`
    WITH claims AS (
      SELECT r.row_number, c.claim FROM import_rows r CROSS JOIN LATERAL jsonb_array_elements_text(r.identification -> 'claims') AS c(claim)
       WHERE r.import_id = ? AND r.verdict <> 'refuse' AND jsonb_typeof(r.identification -> 'claims') = 'array'
    ), repeated AS (
      SELECT DISTINCT ON (c.row_number) c.row_number, f.first_row, c.claim
        FROM claims c JOIN (SELECT claim, min(row_number) AS first_row FROM claims GROUP BY claim) f ON f.claim = c.claim AND f.first_row < c.row_number
       ORDER BY c.row_number, f.first_row
    )
    UPDATE import_rows r
       SET verdict = 'refuse', changes = NULL, left_alone = NULL,
           problems = jsonb_build_array(jsonb_build_object('column', '(row)', 'value', d.claim, 'reason',
             CASE WHEN d.claim LIKE 'name=%' THEN 'row ' || d.first_row || ' gives a record this name already: a batch names each record once'
                  ELSE 'row ' || d.first_row || ' names this device already (' || split_part(d.claim, '=', 1) || '): a batch names each device once' END))
      FROM repeated d
     WHERE r.import_id = ? AND r.row_number = d.row_number`,
  [importId, importId]);
}

/** Lifecycle workflows started at once after a chunk. */
const START_CONCURRENCY = 8;

/**
 * Starts the lifecycle workflows of the assets behind the records the chunk created, read from the
 * chunk's outcomes, so a retry after the commit still starts them; a running workflow is kept.
 */
async function startLifecycles(deps: InventoryApplyDeps, importId: string, from: number, to: number): Promise<void> {
  const assets = (await deps.db.raw(`
    SELECT a.* FROM import_rows r JOIN configuration_items ci ON ci.id = r.record_id JOIN assets a ON a.id = ci.asset_id
     WHERE r.import_id = ? AND r.row_number BETWEEN ? AND ? AND r.outcome = 'created' AND a.state <> 'retired'`, [importId, from, to])).rows as AssetRow[];
  for (let at = 0; at < assets.length; at += START_CONCURRENCY) {
    await Promise.all(assets.slice(at, at + START_CONCURRENCY).map(async (row) => {
      try {
        await deps.temporal.workflow.start('assetLifecycleWorkflow', lifecycleStartOptions(toAsset(row), deps.lifecycle));
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
    }));
  }
}

/**
 * Applies rows `from` to `to` in one transaction that stores each row's outcome (rows with an
 * outcome are not taken again), then, after the commit, starts what the chunk's outcomes call for
 * (lifecycle workflows of new assets, steward cases of held rows). A unique violation (another
 * batch created the same device meanwhile) runs the chunk once more, whose judgement finds that
 * record; a second one applies the rows one by one. Answers the batch's rows applied.
 */
export async function applyInventoryChunk(deps: InventoryApplyDeps, importId: string, from: number, to: number): Promise<number> {
  const once = () => applyAttempt(deps.db, importId, from, to, false);
  const rowsApplied = await once().catch((error: unknown) => {
    if (!isUniqueViolation(error)) throw error;
    return once();
  }).catch((error: unknown) => {
    if (!isInvalidData(error)) throw error;
    return applyAttempt(deps.db, importId, from, to, true);
  });
  await startLifecycles(deps, importId, from, to);
  const held = await deps.db('import_rows').where({ import_id: importId, outcome: 'held' }).whereBetween('row_number', [from, to]).first('row_number');
  if (held) await startStewardCaseWorkflows(deps.db, deps.temporal, deps.lifecycle.taskQueue, deps.approvalTimings, importId, from, to);
  return rowsApplied;
}
