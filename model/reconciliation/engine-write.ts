/**
 * The writes of a chunk's judgements, in its transaction and in a bounded number of statements
 * whatever the chunk holds: new assets and CIs, the columns changed, provenance, sightings,
 * installations, steward cases and the audit rows.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { OUTCOME_OF_VERDICT } from '../../domain/master-data';
import type { AppliedRow } from '../imports';
import { openStewardCase } from './cases';
import type { BatchContext, Judgement } from './engine-judge';
import { applyInstallations } from './installations';

const json = (value: unknown) => JSON.stringify(value);

/** The last of each key: two rows of a chunk naming one record write it once (the later row's). */
function lastOf<T>(items: T[], key: (item: T) => string): T[] {
  return [...new Map(items.map((item) => [key(item), item])).values()];
}

export async function writeJudgements(trx: Knex.Transaction, context: BatchContext, importId: string, judgements: Judgement[]): Promise<AppliedRow[]> {
  const recordOf = new Map<number, { ciId: string; assetId: string | null }>();

  // New records: their assets first (a CI names its asset), ids chosen here so each row knows its own.
  const creates = judgements.flatMap((j) => (j.plan.kind === 'create' ? [{ j, record: j.plan.record, ciId: randomUUID() }] : []));
  const newAssets = creates.flatMap(({ j, record }) => {
    const asset = record.asset;
    if (asset?.kind !== 'new') return [];
    const id = randomUUID();
    return [{ id, row_number: j.rowNumber, asset_tag: asset.assetTag, serial_number: asset.serialNumber, model_id: asset.modelId, currency: asset.currency, location: asset.location, assigned_to_id: asset.assignedToId }];
  });
  if (newAssets.length > 0) {
    await trx.raw(`
      INSERT INTO assets (id, asset_tag, serial_number, model_id, state, substate, assigned_to_id, location, currency)
      SELECT v.id, coalesce(v.asset_tag, 'AST' || lpad(nextval('asset_tag_seq')::text, 7, '0')), v.serial_number, v.model_id, 'in_use', NULL, v.assigned_to_id, v.location, v.currency
        FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, asset_tag text, serial_number text, model_id uuid, assigned_to_id uuid, location text, currency text)`,
    [json(newAssets)]);
  }
  const newAssetOf = new Map(newAssets.map((a) => [a.row_number, a.id]));
  const assetsTakenOver = creates.flatMap(({ record }) => (record.asset?.kind === 'taken_over' ? [record.asset] : []));
  if (creates.length > 0) {
    await trx.raw(`
      INSERT INTO configuration_items (id, name, ci_class, hostname, dns_domain, mac_address, cloud_resource_id, operational_status, environment, asset_id, discovery_state)
      SELECT v.id, v.name, v.ci_class, v.hostname, v.dns_domain, v.mac_address, v.cloud_resource_id, coalesce(v.operational_status, 'operational'),
             coalesce(v.environment, 'production'), v.asset_id, 'discovered'
        FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, name text, ci_class text, hostname text, dns_domain text, mac_address text, cloud_resource_id text,
             operational_status text, environment text, asset_id uuid)`,
    [json(creates.map(({ j, record, ciId }) => {
      const assetId = record.asset?.kind === 'taken_over' ? record.asset.assetId : newAssetOf.get(j.rowNumber) ?? null;
      recordOf.set(j.rowNumber, { ciId, assetId });
      return {
        id: ciId, name: record.ci.name, ci_class: record.ci.ciClass, hostname: record.ci.hostname, dns_domain: record.ci.domain, mac_address: record.ci.macAddress,
        cloud_resource_id: record.ci.cloudResourceId, operational_status: record.ci.operationalStatus, environment: record.ci.environment, asset_id: assetId,
      };
    }))]);
  }

  // Changed records: only the columns the judgement changes (each row says which).
  const updates = judgements.flatMap((j) => (j.plan.kind === 'update' || j.plan.kind === 'unchanged' ? [{ j, plan: j.plan }] : []));
  for (const { j, plan } of updates) recordOf.set(j.rowNumber, { ciId: plan.ciId, assetId: plan.assetId });
  const ciEdits = lastOf(updates.filter(({ plan }) => Object.keys(plan.ci).length > 0), ({ plan }) => plan.ciId);
  if (ciEdits.length > 0) {
    await trx.raw(`
      UPDATE configuration_items ci SET
             name = CASE WHEN jsonb_exists(v.sets, 'name') THEN v.name ELSE ci.name END,
             hostname = CASE WHEN jsonb_exists(v.sets, 'hostname') THEN v.hostname ELSE ci.hostname END,
             dns_domain = CASE WHEN jsonb_exists(v.sets, 'dns_domain') THEN v.dns_domain ELSE ci.dns_domain END,
             mac_address = CASE WHEN jsonb_exists(v.sets, 'mac_address') THEN v.mac_address ELSE ci.mac_address END,
             cloud_resource_id = CASE WHEN jsonb_exists(v.sets, 'cloud_resource_id') THEN v.cloud_resource_id ELSE ci.cloud_resource_id END,
             operational_status = CASE WHEN jsonb_exists(v.sets, 'operational_status') THEN v.operational_status ELSE ci.operational_status END,
             environment = CASE WHEN jsonb_exists(v.sets, 'environment') THEN v.environment ELSE ci.environment END,
             version = ci.version + 1, updated_at = now()
        FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, sets jsonb, name text, hostname text, dns_domain text, mac_address text, cloud_resource_id text,
             operational_status text, environment text)
       WHERE ci.id = v.id`,
    [json(ciEdits.map(({ plan }) => ({ id: plan.ciId, sets: Object.keys(plan.ci), ...plan.ci })))]);
  }
  // assets.version is the lifecycle's (its workflow compare-and-sets it): an edit moves details_version.
  const assetEdits = lastOf([
    ...updates.flatMap(({ plan }) => (plan.assetId && Object.keys(plan.asset).length > 0 ? [{ id: plan.assetId, edits: plan.asset }] : [])),
    ...assetsTakenOver.flatMap((asset) => (Object.keys(asset.edits).length > 0 ? [{ id: asset.assetId, edits: asset.edits }] : [])),
  ], (edit) => edit.id);
  if (assetEdits.length > 0) {
    await trx.raw(`
      UPDATE assets a SET
             serial_number = CASE WHEN jsonb_exists(v.sets, 'serial_number') THEN v.serial_number ELSE a.serial_number END,
             model_id = CASE WHEN jsonb_exists(v.sets, 'model_id') THEN v.model_id ELSE a.model_id END,
             location = CASE WHEN jsonb_exists(v.sets, 'location') THEN v.location ELSE a.location END,
             details_version = a.details_version + 1, updated_at = now()
        FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, sets jsonb, serial_number text, model_id uuid, location text)
       WHERE a.id = v.id`,
    [json(assetEdits.map((edit) => ({ id: edit.id, sets: Object.keys(edit.edits), ...edit.edits })))]);
  }

  // Provenance: who set each attribute written, and when; a value the same source reports again is confirmed (never backwards).
  const written = lastOf(judgements.flatMap((j) => {
    const ciId = recordOf.get(j.rowNumber)?.ciId;
    if (!ciId || (j.plan.kind !== 'create' && j.plan.kind !== 'update' && j.plan.kind !== 'unchanged')) return [];
    return j.plan.written.map((attribute) => ({ ci_id: ciId, attribute }));
  }), (p) => `${p.ci_id}|${p.attribute}`);
  if (written.length > 0) {
    await trx.raw(`
      INSERT INTO attribute_provenance (ci_id, attribute, source, set_at, confirmed_at, import_id)
      SELECT v.ci_id, v.attribute, ?, ?::timestamptz, ?::timestamptz, ? FROM jsonb_to_recordset(?::jsonb) AS v(ci_id uuid, attribute text)
      ON CONFLICT (ci_id, attribute) DO UPDATE SET source = excluded.source, set_at = excluded.set_at, confirmed_at = excluded.confirmed_at, import_id = excluded.import_id`,
    [context.source, context.observedAt, context.observedAt, importId, json(written)]);
  }
  // A source at least as strong as the holder reporting its value takes it over: the value stays as it was set, and when.
  const takenOver = lastOf(updates.flatMap(({ plan }) => plan.takenOver.map((attribute) => ({ ci_id: plan.ciId, attribute }))), (p) => `${p.ci_id}|${p.attribute}`);
  if (takenOver.length > 0) {
    await trx.raw(`
      INSERT INTO attribute_provenance (ci_id, attribute, source, set_at, confirmed_at, import_id)
      SELECT v.ci_id, v.attribute, ?, ?::timestamptz, ?::timestamptz, ? FROM jsonb_to_recordset(?::jsonb) AS v(ci_id uuid, attribute text)
      ON CONFLICT (ci_id, attribute) DO UPDATE SET source = excluded.source, confirmed_at = excluded.confirmed_at, import_id = excluded.import_id`,
    [context.source, context.observedAt, context.observedAt, importId, json(takenOver)]);
  }
  const confirmed = updates.flatMap(({ plan }) => plan.confirmed.map((attribute) => ({ ci_id: plan.ciId, attribute })));
  if (confirmed.length > 0) {
    await trx.raw(`
      UPDATE attribute_provenance p SET confirmed_at = greatest(p.confirmed_at, ?::timestamptz)
        FROM jsonb_to_recordset(?::jsonb) AS v(ci_id uuid, attribute text)
       WHERE p.ci_id = v.ci_id AND p.attribute = v.attribute AND p.source = ?`,
    [context.observedAt, json(confirmed), context.source]);
  }

  // Sightings: the source saw these records (every record a held row names too: the device was seen, whichever
  // it is); an earlier sighting changes nothing. A missing candidacy is left marked: the unseen watch tells the
  // lifecycle workflow the record was seen again, then clears it.
  const seen = [...new Set([...[...recordOf.values()].map((r) => r.ciId), ...judgements.flatMap((j) => (j.plan.kind === 'hold' ? j.plan.ciIds : []))])];
  if (seen.length > 0) {
    await trx.raw(`
      INSERT INTO ci_sightings (ci_id, source, first_seen_at, last_seen_at, last_import_id)
      SELECT id, ?, ?::timestamptz, ?::timestamptz, ? FROM unnest(?::uuid[]) AS id
      ON CONFLICT (ci_id, source) DO UPDATE SET
        first_seen_at = least(ci_sightings.first_seen_at, excluded.first_seen_at),
        last_import_id = CASE WHEN excluded.last_seen_at > ci_sightings.last_seen_at THEN excluded.last_import_id ELSE ci_sightings.last_import_id END,
        last_seen_at = greatest(ci_sightings.last_seen_at, excluded.last_seen_at)`,
    [context.source, context.observedAt, context.observedAt, importId, seen]);
  }

  const installing = judgements.flatMap((j) => {
    const record = recordOf.get(j.rowNumber);
    return j.software && record ? [{ ...j.software, ciId: record.ciId, assetId: record.assetId }] : [];
  });
  if (installing.length > 0) await applyInstallations(trx, context.source, context.observedAt, importId, installing);

  const applied: AppliedRow[] = [];
  for (const j of judgements) {
    let identification = j.identification;
    if (j.plan.kind === 'hold') {
      const opened = await openStewardCase(trx, { ciIds: j.plan.ciIds, reason: j.plan.reason, importId, rowNumber: j.rowNumber, row: j.row as unknown as Record<string, unknown> });
      identification = { ...identification!, caseNumber: opened.caseNumber };
    }
    applied.push({
      rowNumber: j.rowNumber, outcome: OUTCOME_OF_VERDICT[j.verdict], recordId: recordOf.get(j.rowNumber)?.ciId ?? null,
      problems: j.problems, changes: j.changes, identification, leftAlone: j.leftAlone,
    });
  }

  const audited = applied.filter((row) => (row.outcome === 'created' || row.outcome === 'updated') && row.recordId);
  if (audited.length > 0) {
    await trx.raw(`
      INSERT INTO audit_log (idempotency_key, actor, subject_type, subject_id, action, details)
      SELECT 'inventory:' || ? || ':' || v.row_number, ?, 'configuration_item', v.ci_id, v.action, v.details
        FROM jsonb_to_recordset(?::jsonb) AS v(row_number int, ci_id uuid, action text, details jsonb)`,
    [importId, `system:inventory:${context.source}`, json(audited.map((row) => ({
      row_number: row.rowNumber, ci_id: row.recordId, action: row.outcome === 'created' ? 'discovered' : 'reconciled',
      details: { importId, rowNumber: row.rowNumber, changes: row.changes },
    })))]);
  }
  return applied;
}
