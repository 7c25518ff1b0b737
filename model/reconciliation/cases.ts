/**
 * Data steward cases: records that may be one thing, held from a batch for a person. A case is
 * remembered by its records (pair key): the same records are not asked about again while a case is
 * open, nor after a steward kept them apart or ignored it. The batch engine opens cases and starts
 * their workflows; the API and the pages read them here.
 */
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { together } from './engine-lookups';
import { pairKeyOf } from '../../domain/reconciliation';
import { isUuid } from '../keys';
import type { Row } from '../master-data/kind';
import { paginate, type Page } from '../page';
import type { ApprovalTimings } from '../../workflows/approvals/contract';
import { businessNumberKey, processStateKey, processTypeKey } from '../../workflows/search-attributes';
import { STEWARD_CASE_PROCESS, stewardCaseWorkflowId, type StewardCaseInput, type StewardCaseState } from '../../workflows/steward-case/contract';

export interface NewStewardCase {
  ciIds: string[];
  reason: string;
  importId: string;
  rowNumber: number;
  row: Row;
}

/** The states in which a case holds its pair: asked now, or settled as two things or as noise. */
const HOLDING_STATES = ['open', 'kept_both', 'ignored'] as const;
/** The states that answer "not again" for a pair. */
const SETTLED_APART = ['kept_both', 'ignored'] as const;

/** Opens a case for these records in the caller's transaction, or answers the one that has them already. */
export async function openStewardCase(trx: Knex.Transaction, values: NewStewardCase): Promise<{ caseId: string; caseNumber: string; state: string }> {
  const ciIds = [...new Set(values.ciIds)].sort();
  if (ciIds.length < 2) throw new Error(`a steward case needs two records or more, not ${ciIds.length}`);
  const pairKey = pairKeyOf(ciIds);
  // Two batches holding the same pair at once meet at the partial unique index: the later one reads the case.
  await trx.raw(
    `INSERT INTO reconciliation_cases (ci_ids, pair_key, reason, import_id, row_number, row)
     VALUES (?::uuid[], ?, ?, ?, ?, ?::jsonb)
     ON CONFLICT (pair_key) WHERE state IN ('open', 'kept_both', 'ignored') DO NOTHING`,
    [ciIds, pairKey, values.reason, values.importId, values.rowNumber, JSON.stringify(values.row)],
  );
  const found = await trx('reconciliation_cases').where({ pair_key: pairKey }).whereIn('state', HOLDING_STATES).first('id', 'number', 'state');
  if (!found) throw new Error(`the steward case of ${pairKey} was neither opened nor found`);
  return { caseId: found.id, caseNumber: found.number, state: found.state };
}

/**
 * Starts the steward workflow of every open case rows `from` to `to` of an import opened; after
 * the chunk's commit, and again harmlessly on a retry (the workflow id is the case's).
 */
export async function startStewardCaseWorkflows(
  db: Knex, temporal: Client, taskQueue: string, timings: ApprovalTimings, importId: string, from: number, to: number,
): Promise<void> {
  const cases: { id: string; number: string }[] = await db('reconciliation_cases')
    .where({ import_id: importId, state: 'open' }).whereNull('workflow_id').whereBetween('row_number', [from, to])
    .orderBy('number').select('id', 'number');
  for (const c of cases) await startStewardCaseWorkflow(db, temporal, taskQueue, timings, c);
}

/** Starts one case's workflow (the running one wins) and records its id on the case. */
export async function startStewardCaseWorkflow(db: Knex, temporal: Client, taskQueue: string, timings: ApprovalTimings, c: { id: string; number: string }): Promise<string> {
  const workflowId = stewardCaseWorkflowId(c.number);
  const input: StewardCaseInput = { caseId: c.id, number: c.number, timings };
  await temporal.workflow.start('stewardCaseWorkflow', {
    workflowId,
    taskQueue,
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [input],
    typedSearchAttributes: [
      { key: processTypeKey, value: STEWARD_CASE_PROCESS },
      { key: processStateKey, value: 'open' },
      { key: businessNumberKey, value: c.number },
    ],
  });
  await db('reconciliation_cases').where({ id: c.id }).whereNull('workflow_id').update({ workflow_id: workflowId });
  return workflowId;
}

/** Of the pair keys of cases among these records, those a steward settled as kept apart or ignored. */
export async function settledPairKeys(db: Knex, ciIds: readonly string[]): Promise<Set<string>> {
  const ids = [...new Set(ciIds)].filter(isUuid);
  if (ids.length === 0) return new Set();
  // Cases whose every record is among those asked about: a pair a row could name.
  const rows: { pair_key: string }[] = await db('reconciliation_cases')
    .whereIn('state', SETTLED_APART)
    .whereRaw('ci_ids <@ ?::uuid[]', [ids])
    .select('pair_key');
  return new Set(rows.map((r) => r.pair_key));
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

export { CASE_STATES } from '../../domain/reconciliation';

export interface CaseSummary {
  id: string;
  number: string;
  state: StewardCaseState;
  reason: string;
  records: { id: string; number: string; name: string }[];
  createdAt: string;
  decidedAt: string | null;
}

export interface CaseRecord {
  id: string;
  number: string;
  name: string;
  ciClass: string;
  operationalStatus: string;
  discoveryState: string;
  environment: string;
  createdAt: string;
  retiredAt: string | null;
  mergedIntoId: string | null;
  identifiers: { hostname: string | null; domain: string | null; macAddress: string | null; cloudResourceId: string | null };
  asset: { id: string; assetTag: string; serialNumber: string | null; state: string } | null;
  provenance: { attribute: string; source: string; setAt: string; confirmedAt: string }[];
  sightings: { source: string; firstSeenAt: string; lastSeenAt: string }[];
  counts: { relationships: number; installations: number; costRecords: number; changes: number };
}

export interface CaseDetail extends CaseSummary {
  workflowId: string | null;
  importId: string | null;
  rowNumber: number | null;
  row: Row | null;
  /** The record a merge keeps unless the steward chooses: the verified one, else the oldest. */
  proposedSurvivorId: string;
  survivorCiId: string | null;
  decidedBy: { id: string; name: string; email: string } | null;
  comment: string | null;
  /** Why the last decision could not be carried out (e.g. both records have an asset); null when none failed. */
  refusal: string | null;
  /** Said when nobody in the data stewards was active and asset managers were asked instead. */
  routingNote: string | null;
  recordDetails: CaseRecord[];
  approvals: { id: string; approverId: string; approverName: string; state: string; revision: number; decidedAt: string | null; comment: string | null }[];
}

const iso = (value: Date | string | null | undefined) => (value ? new Date(value).toISOString() : null);

/** The record a merge keeps by default: a verified one before a discovered one, then the oldest. */
export function proposedSurvivor(records: readonly { id: string; discoveryState: string; createdAt: string; number: string }[]): string {
  const ranked = [...records].sort((a, b) =>
    Number(a.discoveryState !== 'verified') - Number(b.discoveryState !== 'verified') || a.createdAt.localeCompare(b.createdAt) || a.number.localeCompare(b.number));
  return ranked[0].id;
}

async function recordNames(db: Knex, ids: string[]): Promise<Map<string, { id: string; number: string; name: string }>> {
  const rows = ids.length ? await db('configuration_items').whereIn('id', ids).select('id', 'number', 'name') : [];
  return new Map(rows.map((r) => [r.id, { id: r.id, number: r.number, name: r.name }]));
}

const summaryOf = (c: Record<string, any>, names: Map<string, { id: string; number: string; name: string }>): CaseSummary => ({
  id: c.id,
  number: c.number,
  state: c.state,
  reason: c.reason,
  records: (c.ci_ids as string[]).map((id) => names.get(id) ?? { id, number: '?', name: '(deleted)' }),
  createdAt: iso(c.created_at)!,
  decidedAt: iso(c.decided_at),
});

/** Cases newest first, filtered by state. */
export async function listStewardCases(db: Knex, filters: { state?: StewardCaseState }, page: { limit: number; offset: number }): Promise<Page<CaseSummary>> {
  const q = db('reconciliation_cases').orderBy('created_at', 'desc').orderBy('number', 'desc').select('*');
  if (filters.state) q.where('state', filters.state);
  const result = await paginate<Record<string, any>, Record<string, any>>(q, page, (r) => r);
  const names = await recordNames(db, [...new Set(result.items.flatMap((c) => c.ci_ids as string[]))]);
  return { items: result.items.map((c) => summaryOf(c, names)), page: result.page };
}

/** The records of a case as a steward compares them. */
export async function caseRecords(db: Knex, ciIds: string[]): Promise<CaseRecord[]> {
  const [cis, provenance, sightings, relationships, installations, costs, changes] = await together(db, [
    () => db('configuration_items as ci').leftJoin('assets as a', 'a.id', 'ci.asset_id').whereIn('ci.id', ciIds)
      .select('ci.*', 'a.asset_tag', 'a.serial_number', 'a.state as asset_state'),
    () => db('attribute_provenance').whereIn('ci_id', ciIds).orderBy('attribute').select('*'),
    () => db('ci_sightings').whereIn('ci_id', ciIds).orderBy('source').select('*'),
    () => db.raw(`SELECT c.id, count(r.id)::int AS n FROM unnest(?::uuid[]) AS c(id)
              JOIN ci_relationships r ON (r.from_ci_id = c.id OR r.to_ci_id = c.id) AND r.retired_at IS NULL GROUP BY c.id`, [ciIds]),
    () => db('software_consumptions').whereIn('ci_id', ciIds).where({ kind: 'installation' }).whereNull('reclaimed_at').groupBy('ci_id').select('ci_id').count({ n: '*' }),
    () => db('cost_records').whereIn('ci_id', ciIds).groupBy('ci_id').select('ci_id').count({ n: '*' }),
    () => db('change_affected_cis').whereIn('ci_id', ciIds).groupBy('ci_id').select('ci_id').count({ n: '*' }),
  ] as const);
  const countOf = (rows: { ci_id?: string; id?: string; n: string | number }[], id: string) => Number(rows.find((r) => (r.ci_id ?? r.id) === id)?.n ?? 0);
  const byId = new Map<string, Record<string, any>>((cis as Record<string, any>[]).map((c) => [c.id as string, c]));
  return ciIds.filter((id) => byId.has(id)).map((id) => {
    const c = byId.get(id)!;
    return {
      id,
      number: c.number,
      name: c.name,
      ciClass: c.ci_class,
      operationalStatus: c.operational_status,
      discoveryState: c.discovery_state,
      environment: c.environment,
      createdAt: iso(c.created_at)!,
      retiredAt: iso(c.retired_at),
      mergedIntoId: c.merged_into_id ?? null,
      identifiers: { hostname: c.hostname, domain: c.dns_domain, macAddress: c.mac_address, cloudResourceId: c.cloud_resource_id },
      asset: c.asset_id ? { id: c.asset_id, assetTag: c.asset_tag, serialNumber: c.serial_number, state: c.asset_state } : null,
      provenance: provenance.filter((p) => p.ci_id === id).map((p) => ({ attribute: p.attribute, source: p.source, setAt: iso(p.set_at)!, confirmedAt: iso(p.confirmed_at)! })),
      sightings: sightings.filter((s) => s.ci_id === id).map((s) => ({ source: s.source, firstSeenAt: iso(s.first_seen_at)!, lastSeenAt: iso(s.last_seen_at)! })),
      counts: {
        relationships: countOf(relationships.rows, id),
        installations: countOf(installations as never, id),
        costRecords: countOf(costs as never, id),
        changes: countOf(changes as never, id),
      },
    };
  });
}

/** Why the last decision of a case could not be carried out, from its audit rows; null when the last went through. */
async function lastRefusal(db: Knex, caseId: string): Promise<{ refusal: string | null; note: string | null }> {
  const rows = await db('audit_log').where({ subject_type: 'reconciliation_case', subject_id: caseId })
    .whereIn('action', ['settle_refused', 'settled', 'approvals_planned']).orderBy('id', 'desc').select('action', 'details');
  const last = rows.find((r) => r.action !== 'approvals_planned');
  const planned = rows.find((r) => r.action === 'approvals_planned');
  return {
    refusal: last?.action === 'settle_refused' ? String(last.details?.reason ?? '') : null,
    note: (planned?.details?.result?.note as string | null | undefined) ?? null,
  };
}

/** A case by number (RCN…) or id, with its records side by side; undefined when there is none. */
export async function findStewardCase(db: Knex, ref: string): Promise<CaseDetail | undefined> {
  const c = await db('reconciliation_cases').where(isUuid(ref) ? { id: ref } : { number: ref.toUpperCase() }).first();
  if (!c) return undefined;
  const ciIds = c.ci_ids as string[];
  const [names, records, decidedBy, approvals, refusal] = await Promise.all([
    recordNames(db, ciIds),
    caseRecords(db, ciIds),
    c.decided_by_id ? db('people').where({ id: c.decided_by_id }).first('id', 'name', 'email') : undefined,
    db('approvals as a').join('people as p', 'p.id', 'a.approver_id').where({ 'a.subject_type': 'reconciliation_case', 'a.subject_id': c.id })
      .orderBy('a.created_at').select('a.id', 'a.approver_id', 'p.name', 'a.state', 'a.revision', 'a.decided_at', 'a.comment'),
    lastRefusal(db, c.id),
  ]);
  return {
    ...summaryOf(c, names),
    workflowId: c.workflow_id,
    importId: c.import_id,
    rowNumber: c.row_number,
    row: c.row,
    proposedSurvivorId: records.length ? proposedSurvivor(records) : ciIds[0],
    survivorCiId: c.survivor_ci_id,
    decidedBy: decidedBy ? { id: decidedBy.id, name: decidedBy.name, email: decidedBy.email } : null,
    comment: c.comment,
    refusal: c.state === 'open' ? refusal.refusal : null,
    routingNote: refusal.note,
    recordDetails: records,
    approvals: approvals.map((a) => ({
      id: a.id, approverId: a.approver_id, approverName: a.name, state: a.state, revision: a.revision, decidedAt: iso(a.decided_at), comment: a.comment,
    })),
  };
}

/** The open approval of a case that waits for this person, if any. */
export async function openCaseApprovalOf(db: Knex, caseId: string, personId: string): Promise<string | undefined> {
  const row = await db('approvals').where({ subject_type: 'reconciliation_case', subject_id: caseId, approver_id: personId, state: 'requested' }).orderBy('created_at', 'desc').first('id');
  return row?.id;
}

/**
 * The record a merge of the case keeps unless the steward chooses, as the case page and the task
 * email show it: fixed when the steward approves, so the merge keeps exactly what they read.
 */
export async function proposedSurvivorOf(db: Knex, caseId: string): Promise<string | undefined> {
  const records = await db('configuration_items').whereIn('id', db('reconciliation_cases').where({ id: caseId }).select(db.raw('unnest(ci_ids)')))
    .select('id', 'number', 'discovery_state', 'created_at');
  if (records.length === 0) return undefined;
  return proposedSurvivor(records.map((r) => ({ id: r.id, number: r.number, discoveryState: r.discovery_state, createdAt: iso(r.created_at)! })));
}

/** The records a merge may keep, for checking a steward's choice. */
export async function caseRecordIds(db: Knex, caseId: string): Promise<string[] | undefined> {
  const row = await db('reconciliation_cases').where({ id: caseId }).first('ci_ids');
  return row?.ci_ids;
}

/** What a steward's merges made of a CI, for its page: the records merged into it, and the one it was merged into. */
export async function mergesOf(db: Knex, ciId: string): Promise<{ from: { id: string; number: string; name: string }[]; into: { id: string; number: string; name: string } | null }> {
  const [from, self] = await Promise.all([
    db('configuration_items').where({ merged_into_id: ciId }).orderBy('number').select('id', 'number', 'name'),
    db('configuration_items as ci').join('configuration_items as s', 's.id', 'ci.merged_into_id').where('ci.id', ciId).first('s.id', 's.number', 's.name'),
  ]);
  return { from, into: self ?? null };
}
