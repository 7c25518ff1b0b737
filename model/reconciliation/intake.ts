/**
 * Inventory batches as they arrive (issue 16): the live batch a sender's key names, and a previewed
 * dry run turned into the real batch of the same rows. The upload itself is staged by the import
 * machinery (api/imports.ts).
 */
import type { Knex } from 'knex';
import type { ImportFormat, OnInvalidRows } from '../../domain/master-data';
import type { InventorySource } from '../../domain/reconciliation';
import { insertAuditRow } from '../audit-rows';
import { findImport, type ImportSummary } from '../imports';

/** The batch a (source, batch key) names: the one that is not a dry run and has not failed, as imports_batch_key_unique keeps one. */
export async function findLiveInventoryBatch(db: Knex, source: InventorySource, batchKey: string): Promise<ImportSummary | null> {
  const row = await db('imports').where({ kind: 'inventory', source, batch_key: batchKey, dry_run: false }).whereNot('state', 'failed').first('id');
  return row ? findImport(db, row.id as string) : null;
}

export type ApplyPreviewed =
  /** A new batch of the dry run's rows, staged and not started yet. */
  | { outcome: 'copied'; importId: string; rowsTotal: number; format: ImportFormat; fileName: string | null; onInvalidRows: OnInvalidRows }
  /** The dry run was applied already, as this batch (which has not failed). */
  | { outcome: 'applied_before'; importId: string }
  | { outcome: 'not_found' }
  | { outcome: 'not_previewed'; summary: ImportSummary };

interface DryRunRecord {
  id: string;
  kind: string;
  dry_run: boolean;
  state: string;
  format: ImportFormat;
  file_name: string | null;
  on_invalid_rows: OnInvalidRows;
  source: InventorySource;
  batch_key: string | null;
  observed_at: Date;
  rows_total: number;
}

/**
 * A previewed dry run becomes a real batch of the same rows, with its source, observation time and
 * batch key: one INSERT … SELECT copies the rows as they were staged (a row that could not be read
 * keeps why). The dry run is locked meanwhile and the copy recorded on it in the audit log, so it is
 * applied once: again, it answers the batch it became, unless that one failed. A batch key a live
 * batch holds already fails the insert with the unique violation of imports_batch_key_unique.
 */
export async function copyPreviewedBatch(db: Knex, dryRunId: string, requestedBy: { id: string; email: string }): Promise<ApplyPreviewed> {
  return db.transaction(async (trx) => {
    const dryRun = (await trx('imports').where({ id: dryRunId, kind: 'inventory' }).forUpdate().first()) as DryRunRecord | undefined;
    if (!dryRun) return { outcome: 'not_found' };
    if (!dryRun.dry_run || dryRun.state !== 'previewed') return { outcome: 'not_previewed', summary: (await findImport(trx, dryRunId))! };
    const earlier = await trx('audit_log as a').join('imports as i', trx.raw('i.id = (a.details ->> ?)::uuid', ['appliedAs']))
      .where({ 'a.subject_type': 'import', 'a.subject_id': dryRunId, 'a.action': 'dry_run_applied' }).whereNot('i.state', 'failed')
      .orderBy('a.id', 'desc').first('i.id');
    if (earlier) return { outcome: 'applied_before', importId: earlier.id as string };
    const [{ id: importId }] = await trx('imports').insert({
      kind: 'inventory', format: dryRun.format, file_name: dryRun.file_name, dry_run: false, on_invalid_rows: dryRun.on_invalid_rows,
      requested_by_id: requestedBy.id, source: dryRun.source, batch_key: dryRun.batch_key, observed_at: dryRun.observed_at,
    }).returning('id');
    await trx.raw(`
      INSERT INTO import_rows (import_id, row_number, record, problems)
      SELECT ?, row_number, record, CASE WHEN record IS NULL THEN problems ELSE '[]'::jsonb END
        FROM import_rows WHERE import_id = ?`, [importId, dryRunId]);
    await insertAuditRow(trx, {
      actor: requestedBy.email, subjectType: 'import', subjectId: dryRunId, action: 'dry_run_applied',
      details: { appliedAs: importId, source: dryRun.source, batchKey: dryRun.batch_key, observedAt: dryRun.observed_at.toISOString(), rowsTotal: dryRun.rows_total },
    });
    return { outcome: 'copied', importId, rowsTotal: dryRun.rows_total, format: dryRun.format, fileName: dryRun.file_name, onInvalidRows: dryRun.on_invalid_rows };
  });
}

/** A person by email (any letter case), with whether they are active and their roles: whom the watched folder's batches are recorded as. */
export async function personWithRoles(db: Knex, email: string): Promise<{ id: string; email: string; active: boolean; roles: string[] } | undefined> {
  const row = await db('people as p').whereRaw('lower(p.email) = lower(?)', [email])
    .first('p.id', 'p.email', 'p.active', db.raw(`coalesce((SELECT array_agg(r.role) FROM person_roles r WHERE r.person_id = p.id), '{}') AS roles`));
  return row && { id: row.id as string, email: row.email as string, active: row.active as boolean, roles: row.roles as string[] };
}
