/**
 * Searching the audit log (append-only, one row per write): by subject, actor, action, period and
 * workflow, newest first by id. The id is the order because it is the key the indexes end in
 * ((subject_type, subject_id, id), and the primary key): a page is an index range, and an export
 * walks the log in id batches (keyset), never holding more than one batch.
 */
import type { Knex } from 'knex';
import { isUuid } from './keys';
import { likeContaining } from './directory';
import { MASTER_DATA } from './master-data';

export interface AuditFilters {
  subjectType?: string;
  subjectId?: string;
  /** The actor exactly: a person's email (stored in lower case) or system:<component>. */
  actor?: string;
  /** Part of the actor, in any letter case. */
  actorContains?: string;
  action?: string;
  /** From this instant, inclusive. */
  from?: Date;
  /** Until this instant, exclusive. */
  to?: Date;
  workflowId?: string;
}

export interface AuditEntry {
  id: number;
  occurredAt: string;
  actor: string;
  subjectType: string;
  subjectId: string;
  action: string;
  fromState: string | null;
  toState: string | null;
  workflowId: string | null;
  details: Record<string, unknown>;
}

/** The columns of an export, in order. */
export const AUDIT_COLUMNS = ['id', 'occurredAt', 'actor', 'subjectType', 'subjectId', 'action', 'fromState', 'toState', 'workflowId', 'details'] as const;

interface AuditRecord {
  id: number;
  occurred_at: Date;
  actor: string;
  subject_type: string;
  subject_id: string;
  action: string;
  from_state: string | null;
  to_state: string | null;
  workflow_id: string | null;
  details: Record<string, unknown>;
}

const toEntry = (r: AuditRecord): AuditEntry => ({
  id: r.id,
  occurredAt: r.occurred_at.toISOString(),
  actor: r.actor,
  subjectType: r.subject_type,
  subjectId: r.subject_id,
  action: r.action,
  fromState: r.from_state,
  toState: r.to_state,
  workflowId: r.workflow_id,
  details: r.details,
});

function filtered(db: Knex, f: AuditFilters): Knex.QueryBuilder {
  const q = db('audit_log').select('id', 'occurred_at', 'actor', 'subject_type', 'subject_id', 'action', 'from_state', 'to_state', 'workflow_id', 'details');
  if (f.subjectType) q.where('subject_type', f.subjectType);
  if (f.subjectId) q.where('subject_id', f.subjectId);
  if (f.actor) q.where('actor', f.actor);
  if (f.actorContains) q.whereILike('actor', likeContaining(f.actorContains));
  if (f.action) q.where('action', f.action);
  if (f.from) q.where('occurred_at', '>=', f.from);
  if (f.to) q.where('occurred_at', '<', f.to);
  if (f.workflowId) q.where('workflow_id', f.workflowId);
  return q;
}

/**
 * One page, newest first. No total: counting the matches of a log that only grows would cost a
 * scan on every page; `hasMore` says whether an older page exists. `beforeId` pages by key (the
 * last id of the page before) instead of by offset, so a deep page costs what the first does.
 */
export async function searchAudit(
  db: Knex,
  filters: AuditFilters,
  page: { limit: number; offset: number; beforeId?: number },
): Promise<{ items: AuditEntry[]; page: { limit: number; offset: number; hasMore: boolean; nextBeforeId: number | null } }> {
  const q = filtered(db, filters);
  if (page.beforeId !== undefined) q.where('id', '<', page.beforeId);
  const rows: AuditRecord[] = await q.orderBy('id', 'desc').offset(page.offset).limit(page.limit + 1);
  const hasMore = rows.length > page.limit;
  const items = rows.slice(0, page.limit).map(toEntry);
  return { items, page: { limit: page.limit, offset: page.offset, hasMore, nextBeforeId: hasMore ? items[items.length - 1].id : null } };
}

/** Rows an export reads per query. */
export const AUDIT_EXPORT_BATCH = 1000;

/** Every match, newest first, read a batch at a time by key; each batch is asked for only when the one before is consumed. */
export async function* auditBatches(db: Knex, filters: AuditFilters, batchSize = AUDIT_EXPORT_BATCH): AsyncGenerator<AuditEntry[]> {
  let beforeId: number | undefined;
  for (;;) {
    const q = filtered(db, filters);
    if (beforeId !== undefined) q.where('id', '<', beforeId);
    const rows: AuditRecord[] = await q.orderBy('id', 'desc').limit(batchSize);
    if (rows.length) yield rows.map(toEntry);
    if (rows.length < batchSize) return;
    beforeId = rows[rows.length - 1].id;
  }
}

// ---------------------------------------------------------------------------------------------
// Subjects named by a business reference
// ---------------------------------------------------------------------------------------------

type Finder = (db: Knex, ref: string) => Promise<string | undefined>;

const idOf = async (query: Knex.QueryBuilder): Promise<string | undefined> => (await query.first('id'))?.id;

/** The subjects a reference names by something other than their id; master data adds its kinds below. */
const FINDERS: Record<string, Finder> = {
  change_request: (db, ref) => idOf(db('change_requests').where('number', ref.toUpperCase())),
  purchase_request: (db, ref) => idOf(db('purchase_requests').where('number', ref.toUpperCase())),
  asset: (db, ref) => idOf(db('assets').where('asset_tag', ref.toUpperCase())),
  person: (db, ref) => idOf(db('people').whereRaw('lower(email) = lower(?)', [ref])),
  group: (db, ref) => idOf(db('groups').whereRaw('lower(name) = lower(?)', [ref])),
};

/** References that say what they name: a change or purchase number, an asset tag, an email. */
const SELF_DESCRIBING: [RegExp, string][] = [
  [/^CHG\d+$/i, 'change_request'],
  [/^PR\d+$/i, 'purchase_request'],
  [/^AST\d+$/i, 'asset'],
  [/^[^@\s]+@[^@\s]+$/, 'person'],
];

function finderOf(subjectType: string): Finder | undefined {
  if (FINDERS[subjectType]) return FINDERS[subjectType];
  const kind = [...MASTER_DATA.values()].find((k) => k.subjectType === subjectType);
  return kind && (async (db, ref) => (await kind.findByRef(db, ref, false))?.id);
}

/** The subject types a reference can be resolved for (besides an id, which any type takes). */
export function referableSubjectTypes(): string[] {
  return [...new Set([...Object.keys(FINDERS), ...[...MASTER_DATA.values()].map((k) => k.subjectType)])];
}

export type SubjectResolution =
  | { subjectType: string | undefined; subjectId: string }
  | { problem: string };

/**
 * The subject a reference names: an id as it is; a change or purchase number, an asset tag or an
 * email on their own; anything else (a cost-centre code, a group name) with its subject type.
 */
export async function resolveSubject(db: Knex, ref: string, subjectType: string | undefined): Promise<SubjectResolution> {
  if (isUuid(ref)) return { subjectType, subjectId: ref.toLowerCase() };
  const type = subjectType ?? SELF_DESCRIBING.find(([pattern]) => pattern.test(ref))?.[1];
  if (!type) return { problem: `say which subjectType ${ref} is (one of: ${referableSubjectTypes().join(', ')}), or give its id` };
  const find = finderOf(type);
  if (!find) return { problem: `a ${type} is named by its id only (references work for: ${referableSubjectTypes().join(', ')})` };
  const id = await find(db, ref);
  return id ? { subjectType: type, subjectId: id } : { problem: `there is no ${type} ${ref}` };
}
