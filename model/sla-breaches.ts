import type { Knex } from 'knex';
import type { ProcessKind } from '../domain/processes';

/** One stay of an open process in a state that outlived its SLA target, not yet told to the process owners. */
export interface SlaBreach {
  workflowId: string;
  process: ProcessKind;
  subjectId: string;
  businessNumber: string;
  title: string;
  state: string;
  /** Exactly as stored (microseconds): with the state it names the stay, and a Date would round it. */
  stateEnteredAt: string;
  slaDueAt: Date;
}

/**
 * The open processes past their SLA target in their current state with no notice for that stay,
 * the longest overdue first, at most `limit`: the partial index on open processes' sla_due_at
 * finds them, the notices' primary key rules out the ones told already.
 */
export async function unnoticedSlaBreaches(db: Knex, limit: number): Promise<SlaBreach[]> {
  const rows = await db('processes as p')
    .whereNull('p.finished_at')
    .where('p.sla_due_at', '<', db.fn.now())
    .whereNotExists(db('sla_breach_notices as n')
      .whereRaw('n.workflow_id = p.workflow_id AND n.state = p.state AND n.state_entered_at = p.state_entered_at'))
    .orderBy([{ column: 'p.sla_due_at', order: 'asc' }, { column: 'p.workflow_id', order: 'asc' }])
    .limit(limit)
    .select('p.workflow_id', 'p.process', 'p.subject_id', 'p.business_number', 'p.title', 'p.state', 'p.sla_due_at',
      db.raw(`to_json(p.state_entered_at) #>> '{}' AS state_entered_at`));
  return rows.map((r) => ({
    workflowId: r.workflow_id,
    process: r.process,
    subjectId: r.subject_id,
    businessNumber: r.business_number,
    title: r.title,
    state: r.state,
    stateEnteredAt: r.state_entered_at,
    slaDueAt: r.sla_due_at,
  }));
}

/** Records that a breach was told; false when it was already (another run took it first), so it is told once. */
export async function recordSlaBreachNotice(trx: Knex, breach: SlaBreach): Promise<boolean> {
  const inserted = await trx('sla_breach_notices')
    .insert({ workflow_id: breach.workflowId, state: breach.state, state_entered_at: breach.stateEnteredAt, sla_due_at: breach.slaDueAt })
    .onConflict(['workflow_id', 'state', 'state_entered_at'])
    .ignore()
    .returning('workflow_id');
  return inserted.length > 0;
}
