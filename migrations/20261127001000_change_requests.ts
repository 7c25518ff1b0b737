import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE SEQUENCE change_number_seq START 1001`);

  await knex.schema.createTable('change_models', (t) => {
    t.comment('Pre-approved templates for standard changes, with the highest risk they may carry unapproved.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable().unique('change_models_name_unique');
    t.text('description').notNullable();
    t.text('risk_ceiling').notNullable().defaultTo('low');
    t.boolean('active').notNullable().defaultTo(true);
    t.check(`risk_ceiling IN ('low', 'moderate', 'high', 'very_high')`, [], 'change_models_risk_ceiling_check');
  });

  await knex.schema.createTable('change_requests', (t) => {
    t.comment('Change requests; the change workflow projects its state, impact and risk here.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('number').notNullable().unique('change_requests_number_unique')
      .defaultTo(knex.raw(`'CHG' || lpad(nextval('change_number_seq')::text, 7, '0')`));
    t.text('type').notNullable();
    t.uuid('change_model_id').references('change_models.id').withKeyName('change_requests_model_fk');
    t.text('state').notNullable().defaultTo('new');
    t.text('close_code');
    t.uuid('requester_id').notNullable().references('people.id').withKeyName('change_requests_requester_fk');
    t.uuid('cost_centre_id').references('cost_centres.id').withKeyName('change_requests_cost_centre_fk');
    t.text('title').notNullable();
    t.text('description').notNullable().defaultTo('');
    t.timestamp('planned_start', { useTz: true });
    t.timestamp('planned_end', { useTz: true });
    t.bigInteger('one_off_cost_minor').notNullable().defaultTo(0);
    t.bigInteger('recurring_cost_minor').notNullable().defaultTo(0);
    t.specificType('currency', 'char(3)').notNullable().defaultTo('EUR');
    t.jsonb('impact').comment('the stored impact assessment shown to approvers');
    t.integer('risk_score');
    t.text('risk_level');
    t.text('workflow_id').unique('change_requests_workflow_unique');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['requester_id'], 'change_requests_requester_index');
    t.index(['state'], 'change_requests_state_index');
    t.check(`type IN ('standard', 'normal', 'emergency')`, [], 'change_requests_type_check');
    t.check(`state IN ('new', 'assess', 'authorize', 'scheduled', 'implement', 'review', 'closed')`, [], 'change_requests_state_check');
    t.check(`close_code IS NULL OR close_code IN ('successful', 'successful_with_issues', 'unsuccessful', 'rejected', 'cancelled')`,
      [], 'change_requests_close_code_check');
    t.check(`(state = 'closed') = (close_code IS NOT NULL)`, [], 'change_requests_closed_has_code_check');
    t.check(`risk_level IS NULL OR risk_level IN ('low', 'moderate', 'high', 'very_high')`, [], 'change_requests_risk_level_check');
    t.check(`type <> 'standard' OR change_model_id IS NOT NULL`, [], 'change_requests_standard_model_check');
    t.check('planned_end IS NULL OR planned_start IS NULL OR planned_end > planned_start', [], 'change_requests_window_check');
  });

  await knex.schema.createTable('change_affected_cis', (t) => {
    t.uuid('change_request_id').notNullable().references('change_requests.id').onDelete('CASCADE').withKeyName('change_affected_cis_change_fk');
    t.uuid('ci_id').notNullable().references('configuration_items.id').withKeyName('change_affected_cis_ci_fk');
    t.primary(['change_request_id', 'ci_id']);
    t.index(['ci_id'], 'change_affected_cis_ci_index');
  });

  await knex.schema.createTable('change_asset_actions', (t) => {
    t.comment('Lifecycle transitions a change declares (deploy this asset, retire that one), run on success.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('change_request_id').notNullable().references('change_requests.id').onDelete('CASCADE').withKeyName('change_asset_actions_change_fk');
    t.uuid('asset_id').notNullable().references('assets.id').withKeyName('change_asset_actions_asset_fk');
    t.text('to_state').notNullable();
    t.text('to_substate');
    t.unique(['change_request_id', 'asset_id'], { indexName: 'change_asset_actions_unique' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('change_asset_actions');
  await knex.schema.dropTable('change_affected_cis');
  await knex.schema.dropTable('change_requests');
  await knex.schema.dropTable('change_models');
  await knex.raw('DROP SEQUENCE change_number_seq');
}
