import type { Knex } from 'knex';

/**
 * People and groups maintained through the API: a version for optimistic concurrency (If-Match),
 * a person's cost centre, deactivation kept as a date (people are never deleted: history names
 * them), and roles remembered with who granted them, so that single sign-on replaces only the
 * roles it granted. One email, one person, whatever its letter case.
 */
export async function up(knex: Knex): Promise<void> {
  const duplicates = await knex.raw(`SELECT lower(email) AS email FROM people GROUP BY lower(email) HAVING count(*) > 1`);
  if (duplicates.rows.length) {
    throw new Error(`people share an email in different letter case; merge them first: ${duplicates.rows.map((r: { email: string }) => r.email).join(', ')}`);
  }
  await knex.schema.alterTable('people', (t) => {
    t.integer('version').notNullable().defaultTo(1).comment('bumped by every update; the ETag of the person');
    t.uuid('cost_centre_id').references('cost_centres.id').withKeyName('people_cost_centre_fk');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('deactivated_at', { useTz: true });
  });
  await knex.raw('CREATE UNIQUE INDEX people_email_lower_unique ON people (lower(email))');
  await knex.schema.alterTable('groups', (t) => {
    t.text('description');
    t.boolean('active').notNullable().defaultTo(true);
    t.integer('version').notNullable().defaultTo(1).comment('bumped by every update; the ETag of the group');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE UNIQUE INDEX groups_name_lower_unique ON groups (lower(name))');
  await knex.schema.alterTable('person_roles', (t) => {
    t.text('granted_by').notNullable().defaultTo('admin').comment('admin: given through the API, the CLI or the demo; sso: mapped from the group claim of the identity provider at sign-in');
    t.check(`granted_by IN ('admin', 'sso')`, [], 'person_roles_granted_by_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('person_roles', (t) => {
    t.dropChecks(['person_roles_granted_by_check']);
    t.dropColumn('granted_by');
  });
  await knex.raw('DROP INDEX groups_name_lower_unique');
  await knex.schema.alterTable('groups', (t) => {
    t.dropColumns('description', 'active', 'version', 'updated_at');
  });
  await knex.raw('DROP INDEX people_email_lower_unique');
  await knex.schema.alterTable('people', (t) => {
    t.dropForeign(['cost_centre_id'], 'people_cost_centre_fk');
    t.dropColumns('version', 'cost_centre_id', 'updated_at', 'deactivated_at');
  });
}
