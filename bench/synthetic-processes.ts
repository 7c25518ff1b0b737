import type { Knex } from 'knex';
import { insertApiKey } from '../model/api-keys';
import { generateApiKey } from '../platform/api-keys';

export interface SyntheticProcesses {
  approverIds: string[];
  /** An approver with open approvals, and their API key: whose inbox the benchmark reads. */
  busyApprover: { id: string; apiKey: string };
  processOwnerKey: string;
}

/**
 * Fills the process index the way real work does: change and purchase request rows (their
 * triggers write the index) over the last 180 days in every state, and a pending approval on
 * every change in authorize. One INSERT ... SELECT per table, so 100,000 processes take seconds.
 */
export async function generateProcesses(db: Knex, count: number): Promise<SyntheticProcesses> {
  const people = Array.from({ length: 200 }, (_, i) => ({ name: `Bench Person ${i}`, email: `bench.person.${i}@bench.example` }));
  const personIds: string[] = (await db('people').insert(people).returning('id')).map((r) => r.id);
  const ownerKey = generateApiKey();
  const [{ id: ownerId }] = await db('people').insert({ name: 'Bench Owner', email: 'bench.owner@bench.example' }).returning('id');
  await insertApiKey(db, { personId: ownerId, name: 'bench', apiKey: ownerKey, createdBy: 'system:bench' });
  await db('person_roles').insert({ person_id: ownerId, role: 'process_owner' });
  const costCentres: string[] = (await db('cost_centres').insert(Array.from({ length: 10 }, (_, i) => ({ code: `BENCH-${i}`, name: `Bench ${i}` }))).returning('id'))
    .map((r) => r.id);
  await db('sla_targets').insert([
    { process: 'change', state: 'authorize', target_minutes: 3 * 24 * 60 },
    { process: 'procurement', state: 'authorize', target_minutes: 5 * 24 * 60 },
  ]).onConflict(['process', 'state']).ignore();

  const changes = Math.round(count * 0.7);
  const purchases = count - changes;
  await db.raw(
    `INSERT INTO change_requests (type, requester_id, cost_centre_id, title, state, close_code, created_at, workflow_id)
     SELECT (ARRAY['normal', 'normal', 'emergency'])[1 + i % 3]::text,
            (:people::uuid[])[1 + i % 200], (:centres::uuid[])[1 + i % 10],
            'Synthetic change ' || i,
            s.state, CASE WHEN s.state = 'closed' THEN 'successful' END,
            now() - make_interval(mins => ((i::bigint * 7919) % (180 * 24 * 60))::int),
            'bench-change:' || i
       FROM generate_series(1, :n) i
       CROSS JOIN LATERAL (SELECT (ARRAY['closed', 'closed', 'closed', 'authorize', 'scheduled', 'implement', 'assess', 'review'])[1 + i % 8] AS state) s`,
    { people: personIds, centres: costCentres, n: changes },
  );
  await db.raw(
    `INSERT INTO purchase_requests (requester_id, cost_centre_id, justification, state, currency, total_minor, created_at, workflow_id)
     SELECT (:people::uuid[])[1 + i % 200], (:centres::uuid[])[1 + i % 10], 'Synthetic purchase ' || i,
            (ARRAY['closed', 'closed', 'rejected', 'authorize', 'ordering', 'partially_received', 'cancelled'])[1 + i % 7],
            'EUR', 1000 * (i % 500), now() - make_interval(mins => ((i::bigint * 104729) % (180 * 24 * 60))::int), 'bench-purchase:' || i
       FROM generate_series(1, :n) i`,
    { people: personIds, centres: costCentres, n: purchases },
  );
  // The approver of change i is person (i + 7) mod 200, never its requester.
  await db.raw(
    `INSERT INTO approvals (subject_type, subject_id, workflow_id, step_order, step_name, approver_id, due_at, created_at)
     SELECT 'change_request', c.id, c.workflow_id, 1, 'Manager', (:people::uuid[])[1 + (split_part(c.workflow_id, ':', 2)::int + 7) % 200],
            c.created_at + interval '3 days', c.created_at + interval '5 minutes'
       FROM change_requests c WHERE c.state = 'authorize' AND c.workflow_id LIKE 'bench-change:%'`,
    { people: personIds },
  );
  await db.raw('VACUUM ANALYZE');
  const busy = await db('approvals').where({ state: 'requested' }).groupBy('approver_id').orderByRaw('count(*) DESC').first('approver_id');
  const busyKey = generateApiKey();
  await insertApiKey(db, { personId: busy.approver_id, name: 'bench', apiKey: busyKey, createdBy: 'system:bench' });
  return { approverIds: personIds, busyApprover: { id: busy.approver_id, apiKey: busyKey }, processOwnerKey: ownerKey };
}
