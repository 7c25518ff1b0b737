import type { Knex } from 'knex';

/**
 * Configuration as data, edited safely: every saved version of an approval rule is kept (a
 * trigger bumps the version and snapshots it, whoever writes), each approval names the rule
 * version that routed it, and the other settings people edit (change models, SLA targets,
 * maintenance and blackout windows, reminder days) carry a version for If-Match.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('approval_rules', (t) => {
    t.integer('version').notNullable().defaultTo(1);
    t.text('updated_by').notNullable().defaultTo('system:migration').comment('email of who saved this version, or system:<component>');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('approval_rule_versions', (t) => {
    t.comment('Every saved version of every approval rule, as it was saved; never changed.');
    t.uuid('rule_id').notNullable().references('approval_rules.id').withKeyName('approval_rule_versions_rule_fk');
    t.integer('version').notNullable();
    t.jsonb('rule').notNullable().comment('the rule row as saved');
    t.text('saved_by').notNullable();
    t.timestamp('saved_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['rule_id', 'version']);
  });
  await knex.raw(`
    CREATE FUNCTION approval_rules_next_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (to_jsonb(NEW) - 'version' - 'updated_at' - 'updated_by') IS DISTINCT FROM (to_jsonb(OLD) - 'version' - 'updated_at' - 'updated_by') THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
      ELSE
        NEW.version := OLD.version;
      END IF;
      RETURN NEW;
    END $$`);
  await knex.raw(`CREATE TRIGGER approval_rules_next_version BEFORE UPDATE ON approval_rules FOR EACH ROW EXECUTE FUNCTION approval_rules_next_version()`);
  await knex.raw(`
    CREATE FUNCTION approval_rules_keep_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO approval_rule_versions (rule_id, version, rule, saved_by)
      VALUES (NEW.id, NEW.version, to_jsonb(NEW), NEW.updated_by)
      ON CONFLICT (rule_id, version) DO NOTHING;
      RETURN NULL;
    END $$`);
  await knex.raw(`CREATE TRIGGER approval_rules_keep_version AFTER INSERT OR UPDATE ON approval_rules FOR EACH ROW EXECUTE FUNCTION approval_rules_keep_version()`);
  await knex.raw(`INSERT INTO approval_rule_versions (rule_id, version, rule, saved_by) SELECT id, version, to_jsonb(r), updated_by FROM approval_rules r`);

  await knex.schema.alterTable('approvals', (t) => {
    t.uuid('rule_id').references('approval_rules.id').withKeyName('approvals_rule_fk').comment('the rule that routed this step');
    t.integer('rule_version').comment('the version of that rule that routed it');
  });

  for (const table of ['change_models', 'sla_targets', 'schedule_windows']) {
    await knex.schema.alterTable(table, (t) => {
      t.integer('version').notNullable().defaultTo(1);
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
  }
  await knex.schema.alterTable('schedule_windows', (t) => {
    t.timestamp('retired_at', { useTz: true }).comment('a retired window no longer counts; kept for the changes it was shown to');
  });

  await knex.schema.createTable('settings', (t) => {
    t.comment('Settings people edit at run time (reminder days); the environment gives the defaults.');
    t.text('key').primary();
    t.jsonb('value').notNullable();
    t.integer('version').notNullable().defaultTo(1);
    t.text('updated_by').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('settings');
  await knex.schema.alterTable('schedule_windows', (t) => t.dropColumn('retired_at'));
  for (const table of ['change_models', 'sla_targets', 'schedule_windows']) {
    await knex.schema.alterTable(table, (t) => t.dropColumns('version', 'updated_at'));
  }
  await knex.schema.alterTable('approvals', (t) => {
    t.dropForeign(['rule_id'], 'approvals_rule_fk');
    t.dropColumns('rule_id', 'rule_version');
  });
  await knex.raw('DROP TRIGGER approval_rules_keep_version ON approval_rules');
  await knex.raw('DROP TRIGGER approval_rules_next_version ON approval_rules');
  await knex.raw('DROP FUNCTION approval_rules_keep_version()');
  await knex.raw('DROP FUNCTION approval_rules_next_version()');
  await knex.schema.dropTable('approval_rule_versions');
  await knex.schema.alterTable('approval_rules', (t) => t.dropColumns('version', 'updated_by', 'updated_at'));
}
