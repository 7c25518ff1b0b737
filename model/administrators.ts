import type { Knex } from 'knex';

/** Whether an active person holds the admin role: without one, nobody can manage people or keys. */
export async function hasActiveAdmin(db: Knex): Promise<boolean> {
  const row = await db('people as p').join('person_roles as r', 'r.person_id', 'p.id').where({ 'p.active': true, 'r.role': 'admin' }).first('p.id');
  return Boolean(row);
}
