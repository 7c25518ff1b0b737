import type { Knex } from 'knex';
import type { ProcessKind } from '../domain/processes';
import { stripResult } from './changes';


export const PROCESS_SORTS = ['newest', 'oldest', 'sla_due', 'waiting_longest', 'number'] as const;
export type ProcessSort = (typeof PROCESS_SORTS)[number];

export interface ProcessFilters {
  type?: ProcessKind;
  state?: string;
  requesterId?: string;
  waitingForId?: string;
  /** Only processes started at least this many days ago. */
  minAgeDays?: number;
  slaBreached?: boolean;
  open?: boolean;
  costCentreId?: string;
  serviceId?: string;
  q?: string;
  /** Only processes with a step that ran out of retries (true), or only those without (false). */
  needsAttention?: boolean;
}

export interface ProcessSummary {
  workflowId: string;
  process: ProcessKind;
  businessNumber: string;
  title: string;
  state: string;
  outcome: string | null;
  requester: { id: string; name: string } | null;
  costCentre: string | null;
  waitingFor: { id: string; name: string }[];
  waitingSince: string | null;
  startedAt: string;
  stateEnteredAt: string;
  finishedAt: string | null;
  slaDueAt: string | null;
  slaBreached: boolean;
  /** A step that ran out of retries and waits to be tried again; null when nothing needs attention. */
  needsAttention: { step: string; reason: string; since: string } | null;
}

const ORDER: Record<ProcessSort, string> = {
  newest: 'p.started_at DESC, p.workflow_id',
  oldest: 'p.started_at ASC, p.workflow_id',
  sla_due: 'p.sla_due_at ASC NULLS LAST, p.workflow_id',
  waiting_longest: 'p.waiting_since ASC NULLS LAST, p.workflow_id',
  number: 'p.business_number, p.workflow_id',
};

function applyFilters(q: Knex.QueryBuilder, f: ProcessFilters, db: Knex): Knex.QueryBuilder {
  if (f.type) q.where('p.process', f.type);
  if (f.state) q.where('p.state', f.state);
  if (f.requesterId) q.where('p.requester_id', f.requesterId);
  if (f.waitingForId) q.whereRaw('p.waiting_for @> ARRAY[?]::uuid[]', [f.waitingForId]);
  if (f.minAgeDays !== undefined) q.whereRaw(`p.started_at <= now() - make_interval(days => ?)`, [f.minAgeDays]);
  if (f.slaBreached === true) q.whereNull('p.finished_at').where('p.sla_due_at', '<', db.fn.now());
  if (f.slaBreached === false) q.where((w) => w.whereNotNull('p.finished_at').orWhereNull('p.sla_due_at').orWhere('p.sla_due_at', '>=', db.fn.now()));
  if (f.open === true) q.whereNull('p.finished_at');
  if (f.open === false) q.whereNotNull('p.finished_at');
  if (f.costCentreId) q.where('p.cost_centre_id', f.costCentreId);
  if (f.serviceId) q.whereRaw('p.service_ids @> ARRAY[?]::uuid[]', [f.serviceId]);
  if (f.needsAttention === true) q.whereNotNull('p.attention_since');
  if (f.needsAttention === false) q.whereNull('p.attention_since');
  if (f.q) q.where((w) => w.whereILike('p.business_number', `${f.q!.replace(/[\\%_]/g, '\\$&')}%`).orWhereILike('p.title', `%${f.q!.replace(/[\\%_]/g, '\\$&')}%`));
  return q;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * One page of the process index with the total of matches: the page and the count are two
 * indexed queries, run together; names of requesters and approvers are joined for the page only.
 */
export async function listProcesses(
  db: Knex,
  filters: ProcessFilters,
  page: { limit: number; offset: number; sort: ProcessSort },
): Promise<{ items: ProcessSummary[]; page: { limit: number; offset: number; total: number } }> {
  const rows = applyFilters(db('processes as p'), filters, db)
    .select('p.*', db.raw('(p.finished_at IS NULL AND p.sla_due_at < now()) AS sla_breached'))
    .orderByRaw(ORDER[page.sort])
    .limit(page.limit)
    .offset(page.offset);
  const count = applyFilters(db('processes as p'), filters, db).count<{ count: string }[]>({ count: '*' });
  const [pageRows, [{ count: total }]] = await Promise.all([rows, count]);
  return { items: await toSummaries(db, pageRows), page: { limit: page.limit, offset: page.offset, total: Number(total) } };
}

/** One process by its workflow id, as the list shows it. */
export async function findProcess(db: Knex, workflowId: string): Promise<(ProcessSummary & { subjectId: string }) | undefined> {
  const row = await db('processes as p').where('p.workflow_id', workflowId)
    .first('p.*', db.raw('(p.finished_at IS NULL AND p.sla_due_at < now()) AS sla_breached'));
  if (!row) return undefined;
  const [summary] = await toSummaries(db, [row]);
  return { ...summary, subjectId: row.subject_id };
}

/** Only the state: a wait for a state reads it once it listens, so a state reached just before is not missed. */
export async function processState(db: Knex, workflowId: string): Promise<string | undefined> {
  return (await db('processes').where({ workflow_id: workflowId }).first('state'))?.state;
}

/** Rows of the index with the names of requesters and approvers and the cost centre codes joined in. */
async function toSummaries(db: Knex, rows: Record<string, any>[]): Promise<ProcessSummary[]> {
  const personIds = [...new Set(rows.flatMap((r) => [r.requester_id, ...r.waiting_for]).filter(Boolean))];
  const costCentreIds = [...new Set(rows.map((r) => r.cost_centre_id).filter(Boolean))];
  const [people, costCentres] = await Promise.all([
    personIds.length ? db('people').whereIn('id', personIds).select('id', 'name') : [],
    costCentreIds.length ? db('cost_centres').whereIn('id', costCentreIds).select('id', 'code') : [],
  ]);
  const nameOf = new Map<string, string>(people.map((p: { id: string; name: string }) => [p.id, p.name]));
  const codeOf = new Map<string, string>(costCentres.map((c: { id: string; code: string }) => [c.id, c.code]));
  return rows.map((r) => ({
    workflowId: r.workflow_id,
    process: r.process,
    businessNumber: r.business_number,
    title: r.title,
    state: r.state,
    outcome: r.outcome,
    requester: r.requester_id ? { id: r.requester_id, name: nameOf.get(r.requester_id) ?? '' } : null,
    costCentre: r.cost_centre_id ? codeOf.get(r.cost_centre_id) ?? null : null,
    waitingFor: (r.waiting_for as string[]).map((id) => ({ id, name: nameOf.get(id) ?? '' })),
    waitingSince: iso(r.waiting_since),
    startedAt: r.started_at.toISOString(),
    stateEnteredAt: r.state_entered_at.toISOString(),
    finishedAt: iso(r.finished_at),
    slaDueAt: iso(r.sla_due_at),
    slaBreached: r.sla_breached,
    needsAttention: r.attention_since ? { step: r.attention_step, reason: r.attention_reason, since: r.attention_since.toISOString() } : null,
  }));
}

export interface ProcessDashboard {
  byTypeAndState: { process: ProcessKind; state: string; open: boolean; count: number }[];
  slaBreached: { process: ProcessKind; count: number }[];
  /** Open processes with a step that ran out of retries. */
  needsAttention: { process: ProcessKind; count: number }[];
  /** Open processes by age since start. */
  ageing: { process: ProcessKind; bucket: '<1d' | '1-7d' | '7-30d' | '>30d'; count: number }[];
  /** Processes finished per ISO week, the last `weeks` weeks. */
  throughput: { week: string; process: ProcessKind; finished: number; started: number }[];
}

/** The dashboard's figures in one round trip. */
export async function processDashboard(db: Knex, weeks = 8): Promise<ProcessDashboard> {
  const { rows } = await db.raw<{ rows: { doc: ProcessDashboard }[] }>(
    `WITH by_state AS (
       SELECT process, state, finished_at IS NULL AS open, count(*)::int AS count FROM processes GROUP BY 1, 2, 3
     ), breached AS (
       SELECT process, count(*)::int AS count FROM processes WHERE finished_at IS NULL AND sla_due_at < now() GROUP BY 1
     ), attention AS (
       SELECT process, count(*)::int AS count FROM processes WHERE attention_since IS NOT NULL AND finished_at IS NULL GROUP BY 1
     ), ageing AS (
       SELECT process,
              CASE WHEN started_at > now() - interval '1 day' THEN '<1d'
                   WHEN started_at > now() - interval '7 days' THEN '1-7d'
                   WHEN started_at > now() - interval '30 days' THEN '7-30d'
                   ELSE '>30d' END AS bucket,
              count(*)::int AS count
         FROM processes WHERE finished_at IS NULL GROUP BY 1, 2
     ), weeks AS (
       SELECT generate_series(date_trunc('week', now()) - make_interval(weeks => :weeks - 1), date_trunc('week', now()), interval '1 week') AS week
     ), types AS (
       SELECT unnest(ARRAY['change', 'procurement']) AS process
     ), throughput AS (
       SELECT to_char(w.week, 'IYYY-"W"IW') AS week, t.process,
              (SELECT count(*) FROM processes p WHERE p.process = t.process AND p.finished_at >= w.week AND p.finished_at < w.week + interval '1 week')::int AS finished,
              (SELECT count(*) FROM processes p WHERE p.process = t.process AND p.started_at >= w.week AND p.started_at < w.week + interval '1 week')::int AS started
         FROM weeks w CROSS JOIN types t
     )
     SELECT jsonb_build_object(
       'byTypeAndState', coalesce((SELECT jsonb_agg(to_jsonb(b) ORDER BY b.process, b.state) FROM by_state b), '[]'),
       'slaBreached', coalesce((SELECT jsonb_agg(to_jsonb(x) ORDER BY x.process) FROM breached x), '[]'),
       'needsAttention', coalesce((SELECT jsonb_agg(to_jsonb(n) ORDER BY n.process) FROM attention n), '[]'),
       'ageing', coalesce((SELECT jsonb_agg(to_jsonb(a) ORDER BY a.process, a.bucket) FROM ageing a), '[]'),
       'throughput', coalesce((SELECT jsonb_agg(to_jsonb(t) ORDER BY t.week, t.process) FROM throughput t), '[]')
     ) AS doc`,
    { weeks },
  );
  return rows[0].doc;
}

/**
 * What happened to a process, oldest first: its audit rows (state changes, decisions, effects)
 * and the emails it sent, merged.
 */
export async function processTimeline(db: Knex, workflowId: string, subjectId: string) {
  const [audit, emails] = await Promise.all([
    db('audit_log').where((w) => w.where('workflow_id', workflowId).orWhere('subject_id', subjectId)).orderBy('id')
      .select('occurred_at', 'actor', 'action', 'from_state', 'to_state', 'details'),
    db('email_log').where((w) => w.where('workflow_id', workflowId).orWhere('subject_id', subjectId)).orderBy('created_at')
      .select('created_at', 'template', 'recipients', 'subject', 'status'),
  ]);
  const entries = [
    ...audit.map((a) => {
      const details = stripResult(a.details as Record<string, unknown>);
      return { at: (a.occurred_at as Date).toISOString(), kind: 'event' as const, actor: a.actor, action: a.action, fromState: a.from_state, toState: a.to_state, details };
    }),
    ...emails.map((e) => ({ at: (e.created_at as Date).toISOString(), kind: 'email' as const, template: e.template, to: e.recipients, subject: e.subject, status: e.status })),
  ];
  return entries.sort((a, b) => a.at.localeCompare(b.at));
}
