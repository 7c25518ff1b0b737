import type { Knex } from 'knex';

export const ROLES = ['requester', 'approver', 'asset_manager', 'process_owner', 'admin'] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('people', (t) => {
    t.comment('Everyone who requests, approves, implements or owns something.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('email').notNullable().unique('people_email_unique');
    t.text('name').notNullable();
    t.text('title');
    t.text('location');
    t.uuid('manager_id').references('people.id').withKeyName('people_manager_fk');
    t.text('api_key_hash').unique('people_api_key_hash_unique').comment('sha256 of the bearer API key; the key itself is never stored');
    t.boolean('active').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('groups', (t) => {
    t.comment('Assignment and approval groups such as the CAB, finance or security.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable().unique('groups_name_unique');
    t.text('email');
    t.uuid('manager_id').references('people.id').withKeyName('groups_manager_fk');
  });

  await knex.schema.createTable('group_members', (t) => {
    t.uuid('group_id').notNullable().references('groups.id').onDelete('CASCADE').withKeyName('group_members_group_fk');
    t.uuid('person_id').notNullable().references('people.id').onDelete('CASCADE').withKeyName('group_members_person_fk');
    t.primary(['group_id', 'person_id']);
  });

  await knex.schema.createTable('person_roles', (t) => {
    t.comment('What a person may do in assetflow; a person can hold several roles.');
    t.uuid('person_id').notNullable().references('people.id').onDelete('CASCADE').withKeyName('person_roles_person_fk');
    t.text('role').notNullable().checkIn([...ROLES], 'person_roles_role_check');
    t.primary(['person_id', 'role']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('person_roles');
  await knex.schema.dropTable('group_members');
  await knex.schema.dropTable('groups');
  await knex.schema.dropTable('people');
}
