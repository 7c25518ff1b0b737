import type { Knex } from 'knex';

/**
 * A record a data steward merged into another stays (history rows, audit rows and old changes
 * name it), retired, pointing at the record it became: its page and the survivor's say so.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('configuration_items', (t) => {
    t.uuid('merged_into_id').references('configuration_items.id').withKeyName('configuration_items_merged_into_fk')
      .comment('set when a data steward merged this record into that one; it is then retired');
    t.index(['merged_into_id'], 'configuration_items_merged_into_index');
    t.check('merged_into_id IS NULL OR merged_into_id <> id', [], 'configuration_items_merged_into_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('configuration_items', (t) => {
    t.dropChecks(['configuration_items_merged_into_check']);
    t.dropIndex(['merged_into_id'], 'configuration_items_merged_into_index');
    t.dropForeign(['merged_into_id'], 'configuration_items_merged_into_fk');
    t.dropColumn('merged_into_id');
  });
}
