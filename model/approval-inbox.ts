import type { Knex } from 'knex';

/** A person's inbox: the approvals waiting for their decision (the web UI and the API read the same). */
export function openApprovalsOf(db: Knex, personId: string): Knex.QueryBuilder {
  return db('approvals').where({ approver_id: personId, state: 'requested' });
}
