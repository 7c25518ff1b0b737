import type { Knex } from 'knex';

/**
 * FinOps and COBIT (issue 17): cloud bills imported in FOCUS with every decimal place kept, the
 * monthly allocation per cost centre and business service, budget alerts sent once each, the
 * optimisation findings, and the contract renewal decision as a process with approvals.
 */

const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

export const FINDING_KINDS = ['unused_entitlement', 'over_deployment', 'idle_in_stock', 'past_warranty_tier1', 'contract_renewal_due', 'unowned_cloud_cost'] as const;
export const ALLOCATION_CATEGORIES = ['depreciation', 'licence', 'contract', 'cloud', 'other_cost'] as const;

const PROCESSES_BEFORE = ['change', 'procurement', 'asset_lifecycle', 'reconciliation'];
const APPROVAL_PROCESSES_BEFORE = ['change', 'procurement', 'reconciliation'];
const SUBJECT_TYPES_BEFORE = ['change_request', 'purchase_request', 'reconciliation_case'];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE SEQUENCE cost_import_number_seq START 1001`);
  await knex.schema.createTable('cost_imports', (t) => {
    t.comment('A cloud bill in FOCUS, imported once per file; its rows are staged, checked, then written as cost records.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('number').notNullable().unique('cost_imports_number_unique')
      .defaultTo(knex.raw(`'CIM' || lpad(nextval('cost_import_number_seq')::text, 7, '0')`));
    t.text('file_name').notNullable();
    t.text('file_sha256').notNullable().comment('the same file again answers this import');
    t.bigInteger('file_bytes').notNullable();
    t.text('format').notNullable();
    t.text('focus_version').comment('the FOCUS column set the header matched: 1.0, 1.1 or 1.2');
    t.text('source').notNullable().defaultTo('api');
    t.text('state').notNullable().defaultTo('staging');
    t.integer('rows_total').notNullable().defaultTo(0);
    t.integer('rows_refused').notNullable().defaultTo(0);
    t.integer('rows_imported').notNullable().defaultTo(0);
    t.jsonb('scopes').notNullable().defaultTo('[]').comment('provider, billing account and billing period of the rows: a later file of a scope replaces its records');
    t.jsonb('totals').notNullable().defaultTo('[]').comment('per provider and currency: rows, billed and effective cost as exact decimal text');
    t.text('message');
    t.uuid('requested_by_id').references('people.id').withKeyName('cost_imports_requested_by_fk');
    t.text('workflow_id').unique('cost_imports_workflow_unique');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
      .comment('touched while the file is staged: an import staging or staged without its workflow and not touched for long was abandoned');
    t.timestamp('finished_at', { useTz: true });
    t.check(`format IN ('csv', 'csv_gzip', 'parquet')`, [], 'cost_imports_format_check');
    t.check(`source IN ('api', 'drop_folder')`, [], 'cost_imports_source_check');
    t.check(`state IN ('staging', 'staged', 'applying', 'completed', 'failed')`, [], 'cost_imports_state_check');
    t.index(['created_at'], 'cost_imports_created_index');
  });
  await knex.raw(`CREATE UNIQUE INDEX cost_imports_file_unique ON cost_imports (file_sha256) WHERE state <> 'failed'`);

  await knex.schema.createTable('cost_import_rows', (t) => {
    t.comment('Rows of a cost import that passed the check, typed, until the import writes them as cost records.');
    t.uuid('import_id').notNullable().references('cost_imports.id').onDelete('CASCADE').withKeyName('cost_import_rows_import_fk');
    t.integer('row_number').notNullable();
    t.timestamp('billing_period_start', { useTz: true }).notNullable();
    t.timestamp('billing_period_end', { useTz: true }).notNullable();
    t.timestamp('charge_period_start', { useTz: true }).notNullable();
    t.timestamp('charge_period_end', { useTz: true }).notNullable();
    t.text('charge_category').notNullable();
    t.text('charge_class');
    t.text('charge_description');
    t.text('provider_name').notNullable();
    t.text('publisher_name');
    t.text('invoice_issuer_name');
    t.text('billing_account_id');
    t.text('sub_account_id');
    t.text('service_name').notNullable();
    t.text('service_category');
    t.text('resource_id');
    t.text('resource_name');
    t.text('resource_type');
    t.text('region_name');
    t.specificType('billed_cost', 'numeric').notNullable();
    t.specificType('effective_cost', 'numeric').notNullable();
    t.specificType('list_cost', 'numeric');
    t.specificType('contracted_cost', 'numeric');
    t.specificType('consumed_quantity', 'numeric');
    t.specificType('billing_currency', 'char(3)').notNullable();
    t.jsonb('tags').notNullable().defaultTo('{}');
    t.primary(['import_id', 'row_number']);
  });

  await knex.schema.createTable('cost_import_refusals', (t) => {
    t.comment('Rows of a cost import refused by the check, with why: the import report.');
    t.uuid('import_id').notNullable().references('cost_imports.id').onDelete('CASCADE').withKeyName('cost_import_refusals_import_fk');
    t.integer('row_number').notNullable();
    t.jsonb('problems').notNullable().comment('each: column and reason');
    t.jsonb('line').notNullable().comment('the row as read, long values cut');
    t.primary(['import_id', 'row_number']);
  });

  await knex.schema.createTable('cost_import_scopes', (t) => {
    t.comment('Which import holds the cost records of a provider, billing account and billing period: a newer file of the scope replaces them.');
    t.text('provider_name').notNullable();
    t.text('billing_account_id').notNullable().comment('empty when the bill names none');
    t.timestamp('billing_period_start', { useTz: true }).notNullable();
    t.uuid('import_id').notNullable().references('cost_imports.id').onDelete('CASCADE').withKeyName('cost_import_scopes_import_fk');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['provider_name', 'billing_account_id', 'billing_period_start']);
  });

  // Cloud line items carry more places than six: the costs keep all they have.
  for (const column of ['billed_cost', 'effective_cost', 'list_cost']) {
    await knex.raw(`ALTER TABLE cost_records ALTER COLUMN ${column} TYPE numeric`);
  }
  await knex.schema.alterTable('cost_records', (t) => {
    t.specificType('contracted_cost', 'numeric');
    t.specificType('consumed_quantity', 'numeric');
    t.text('charge_class');
    t.text('billing_account_id');
    t.text('sub_account_id');
    t.uuid('cost_import_id').references('cost_imports.id').onDelete('CASCADE').withKeyName('cost_records_cost_import_fk');
    t.uuid('business_service_id').references('configuration_items.id').withKeyName('cost_records_business_service_fk')
      .comment('the business service a tag or the resource allocates the cost to');
    t.uuid('application_id').references('configuration_items.id').withKeyName('cost_records_application_fk');
    t.index(['cost_import_id'], 'cost_records_cost_import_index');
    t.index(['charge_period_start'], 'cost_records_charge_period_index');
  });

  await knex.schema.createTable('cost_allocation_tag_keys', (t) => {
    t.comment('Tag keys of cloud bills that name a cost centre (its code), an application or a business service (name or number); compared in lower case.');
    t.text('purpose').notNullable();
    t.text('tag_key').notNullable();
    t.primary(['purpose', 'tag_key']);
    t.check(`purpose IN ('cost_centre', 'application', 'business_service')`, [], 'cost_allocation_tag_keys_purpose_check');
    t.check('tag_key = lower(tag_key)', [], 'cost_allocation_tag_keys_lower_check');
  });
  await knex('cost_allocation_tag_keys').insert([
    ...['cost-centre', 'cost_centre', 'costcentre', 'cost-center', 'cost_center', 'costcenter'].map((tag_key) => ({ purpose: 'cost_centre', tag_key })),
    ...['application', 'app'].map((tag_key) => ({ purpose: 'application', tag_key })),
    ...['business-service', 'business_service', 'service'].map((tag_key) => ({ purpose: 'business_service', tag_key })),
  ]);

  await knex.schema.createTable('allocation_rules', (t) => {
    t.comment('How the costs of a shared cost centre (the pool) are split onto others: evenly, by headcount, or by their own direct costs (usage).');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable().unique('allocation_rules_name_unique');
    t.uuid('pool_cost_centre_id').notNullable().unique('allocation_rules_pool_unique')
      .references('cost_centres.id').withKeyName('allocation_rules_pool_fk');
    t.text('method').notNullable();
    t.specificType('target_cost_centre_ids', 'uuid[]').notNullable().defaultTo('{}').comment('empty: every other cost centre');
    t.boolean('active').notNullable().defaultTo(true);
    t.integer('version').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check(`method IN ('even', 'headcount', 'usage')`, [], 'allocation_rules_method_check');
    t.check('NOT (pool_cost_centre_id = ANY (target_cost_centre_ids))', [], 'allocation_rules_pool_not_target_check');
  });

  await knex.schema.createTable('allocation_runs', (t) => {
    t.comment('A run of the monthly allocation; a month run again replaces its allocations in one transaction.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.date('period_start').notNullable();
    t.text('state').notNullable().defaultTo('running');
    t.text('workflow_id');
    t.text('idempotency_key').notNullable().unique('allocation_runs_idempotency_unique');
    t.jsonb('source_totals').notNullable().defaultTo('[]').comment('per category and currency, read from the sources');
    t.jsonb('allocated_totals').notNullable().defaultTo('[]').comment('per category and currency, summed from the allocations written');
    t.integer('allocations').notNullable().defaultTo(0);
    t.text('message');
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.check(`state IN ('running', 'completed', 'failed')`, [], 'allocation_runs_state_check');
    t.check(`extract(day FROM period_start) = 1`, [], 'allocation_runs_period_check');
    t.index(['period_start', 'started_at'], 'allocation_runs_period_index');
  });

  await knex.schema.createTable('cost_allocations', (t) => {
    t.comment('What a month cost per cost centre and business service, by category and source; exact, in the source currency.');
    t.bigIncrements('id');
    t.uuid('run_id').notNullable().references('allocation_runs.id').onDelete('CASCADE').withKeyName('cost_allocations_run_fk');
    t.date('period_start').notNullable();
    t.text('category').notNullable();
    t.text('source_type').notNullable();
    t.uuid('source_id');
    t.uuid('cost_centre_id').references('cost_centres.id').withKeyName('cost_allocations_cost_centre_fk');
    t.uuid('business_service_id').references('configuration_items.id').withKeyName('cost_allocations_business_service_fk');
    t.uuid('shared_from_cost_centre_id').references('cost_centres.id').withKeyName('cost_allocations_shared_from_fk')
      .comment('the pool a shared cost was split from by its allocation rule');
    t.specificType('amount', 'numeric').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.check(`category IN (${quoted(ALLOCATION_CATEGORIES)})`, [], 'cost_allocations_category_check');
    t.check(`source_type IN ('asset', 'entitlement', 'contract', 'cost_record')`, [], 'cost_allocations_source_type_check');
    t.index(['period_start', 'cost_centre_id'], 'cost_allocations_cost_centre_index');
    t.index(['period_start', 'business_service_id'], 'cost_allocations_service_index');
    t.index(['run_id'], 'cost_allocations_run_index');
  });

  await knex.schema.createTable('budget_alerts', (t) => {
    t.comment('A budget owner told that a month reached 80% or 100%: the key makes it once per threshold and month.');
    t.uuid('cost_centre_id').notNullable().references('cost_centres.id').onDelete('CASCADE').withKeyName('budget_alerts_cost_centre_fk');
    t.date('period_start').notNullable();
    t.integer('threshold').notNullable();
    t.bigInteger('budget_minor').notNullable();
    t.bigInteger('spent_minor').notNullable().comment('committed plus actual when it was sent');
    t.specificType('currency', 'char(3)').notNullable();
    t.uuid('owner_id').references('people.id').withKeyName('budget_alerts_owner_fk');
    t.timestamp('sent_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['cost_centre_id', 'period_start', 'threshold']);
    t.check('threshold IN (80, 100)', [], 'budget_alerts_threshold_check');
  });

  await knex.raw(`CREATE SEQUENCE finding_number_seq START 1001`);
  await knex.schema.createTable('optimisation_findings', (t) => {
    t.comment('Waste or risk found in the estate with its saving or exposure in money; a process owner acts on it (a workflow) or dismisses it.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('number').notNullable().unique('optimisation_findings_number_unique')
      .defaultTo(knex.raw(`'FND' || lpad(nextval('finding_number_seq')::text, 7, '0')`));
    t.text('kind').notNullable();
    t.text('subject_type').notNullable();
    t.uuid('subject_id').notNullable();
    t.text('subject_ref').notNullable().comment('the number people know it by: ENT…, AST…, CNTR…, CI…');
    t.text('title').notNullable();
    t.text('effect').notNullable();
    t.bigInteger('amount_minor').notNullable();
    t.specificType('currency', 'char(3)').notNullable();
    t.jsonb('details').notNullable().defaultTo('{}');
    t.text('state').notNullable().defaultTo('open');
    t.timestamp('found_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('closed_at', { useTz: true });
    t.uuid('acted_by_id').references('people.id').withKeyName('optimisation_findings_acted_by_fk');
    t.text('action_workflow_id').comment('the workflow acting on it started');
    t.text('action_ref').comment('what people know that process by: CHG…, RNW…, AST…');
    t.text('closing_note');
    t.check(`kind IN (${quoted(FINDING_KINDS)})`, [], 'optimisation_findings_kind_check');
    t.check(`subject_type IN ('entitlement', 'software_product', 'asset', 'contract', 'configuration_item')`, [], 'optimisation_findings_subject_check');
    t.check(`effect IN ('saving', 'exposure')`, [], 'optimisation_findings_effect_check');
    t.check('amount_minor >= 0', [], 'optimisation_findings_amount_check');
    t.check(`state IN ('open', 'acted', 'dismissed', 'resolved')`, [], 'optimisation_findings_state_check');
    t.check(`state <> 'acted' OR action_workflow_id IS NOT NULL`, [], 'optimisation_findings_acted_check');
    t.index(['state', 'kind'], 'optimisation_findings_state_index');
  });
  // One live finding per subject and kind: two scans at once meet here.
  await knex.raw(`CREATE UNIQUE INDEX optimisation_findings_live_unique ON optimisation_findings (kind, subject_id) WHERE state IN ('open', 'acted')`);

  await knex.raw(`CREATE SEQUENCE contract_renewal_number_seq START 1001`);
  await knex.schema.createTable('contract_renewals', (t) => {
    t.comment('A decision to renew a contract or let it end, asked of its approvers as a process.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('number').notNullable().unique('contract_renewals_number_unique')
      .defaultTo(knex.raw(`'RNW' || lpad(nextval('contract_renewal_number_seq')::text, 7, '0')`));
    t.uuid('contract_id').notNullable().references('contracts.id').withKeyName('contract_renewals_contract_fk');
    t.uuid('finding_id').references('optimisation_findings.id').onDelete('SET NULL').withKeyName('contract_renewals_finding_fk');
    t.text('title').notNullable();
    t.text('state').notNullable().defaultTo('open');
    t.text('workflow_id').unique('contract_renewals_workflow_unique');
    t.uuid('requested_by_id').references('people.id').withKeyName('contract_renewals_requested_by_fk');
    t.uuid('decided_by_id').references('people.id').withKeyName('contract_renewals_decided_by_fk');
    t.timestamp('decided_at', { useTz: true });
    t.text('comment');
    t.date('term_ends_on').comment('the end of the contract term decided about (its latest when opened): one decision per term');
    t.date('next_starts_on').comment('renewed: the next term, which follows the contract term it was decided for');
    t.date('next_ends_on');
    t.bigInteger('next_value_minor');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check(`state IN ('open', 'renew', 'let_lapse', 'cancelled')`, [], 'contract_renewals_state_check');
    t.check(`state <> 'renew' OR (next_starts_on IS NOT NULL AND next_ends_on >= next_starts_on AND next_value_minor >= 0)`, [], 'contract_renewals_next_term_check');
  });
  await knex.raw(`CREATE UNIQUE INDEX contract_renewals_open_unique ON contract_renewals (contract_id) WHERE state = 'open'`);
  // A term is decided once: a decision withdrawn or cancelled leaves it to be decided again.
  await knex.raw(`CREATE UNIQUE INDEX contract_renewals_term_unique ON contract_renewals (contract_id, term_ends_on) WHERE state <> 'cancelled'`);
  // Every term of every contract, the one on the contract and those renewed after it: a renewal decided
  // weeks before the contract ends does not take the rest of the current term away from the allocation.
  await knex.raw(`
    CREATE VIEW contract_terms AS
      SELECT c.id AS contract_id, c.kind, c.starts_on, c.ends_on, c.value_minor, c.currency, NULL::uuid AS renewal_id
        FROM contracts c
      UNION ALL
      SELECT r.contract_id, c.kind, r.next_starts_on, r.next_ends_on, r.next_value_minor, c.currency, r.id
        FROM contract_renewals r JOIN contracts c ON c.id = r.contract_id
       WHERE r.state = 'renew'`);

  await knex.raw(`ALTER TABLE approvals DROP CONSTRAINT approvals_subject_type_check`);
  await knex.raw(`ALTER TABLE approvals ADD CONSTRAINT approvals_subject_type_check CHECK (subject_type IN (${quoted([...SUBJECT_TYPES_BEFORE, 'contract_renewal'])}))`);
  for (const [table, constraint, before] of [
    ['approval_rules', 'approval_rules_process_check', APPROVAL_PROCESSES_BEFORE],
    ['processes', 'processes_process_check', PROCESSES_BEFORE],
    ['sla_targets', 'sla_targets_process_check', PROCESSES_BEFORE],
  ] as const) {
    await knex.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${constraint}`);
    await knex.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${constraint} CHECK (process IN (${quoted([...before, 'renewal'])}))`);
  }

  await knex.raw(`
    CREATE FUNCTION processes_from_contract_renewal() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      finished boolean := NEW.state <> 'open';
    BEGIN
      IF NEW.workflow_id IS NULL THEN RETURN NEW; END IF;
      INSERT INTO processes AS p (workflow_id, process, subject_id, business_number, title, state, outcome, requester_id,
                                  waiting_for, waiting_since, started_at, state_entered_at, finished_at, sla_due_at)
      SELECT NEW.workflow_id, 'renewal', NEW.id, NEW.number, left(NEW.title, 200), NEW.state,
             CASE WHEN finished THEN NEW.state END, NEW.requested_by_id,
             coalesce(w.approvers, '{}'), CASE WHEN cardinality(w.approvers) > 0 THEN w.since END,
             NEW.created_at, now(), CASE WHEN finished THEN coalesce(NEW.decided_at, now()) END,
             process_sla_due('renewal', NEW.state, now(), finished)
        FROM (SELECT array_agg(a.approver_id ORDER BY a.created_at) AS approvers, min(a.created_at) AS since
                FROM approvals a WHERE a.workflow_id = NEW.workflow_id AND a.state = 'requested') w
      ON CONFLICT (workflow_id) DO UPDATE SET
        outcome = EXCLUDED.outcome,
        state = EXCLUDED.state,
        state_entered_at = CASE WHEN p.state = EXCLUDED.state THEN p.state_entered_at ELSE now() END,
        finished_at = CASE WHEN finished THEN coalesce(p.finished_at, EXCLUDED.finished_at) END,
        sla_due_at = CASE WHEN p.state = EXCLUDED.state THEN p.sla_due_at
                          ELSE process_sla_due('renewal', EXCLUDED.state, now(), finished) END;
      RETURN NEW;
    END $$;

    CREATE TRIGGER contract_renewals_process_index AFTER INSERT OR UPDATE OF workflow_id, state ON contract_renewals
      FOR EACH ROW EXECUTE FUNCTION processes_from_contract_renewal();
  `);

  const [finance] = await knex('groups').insert({ name: 'Finance' }).onConflict('name').ignore().returning('id');
  const financeGroupId = finance?.id ?? (await knex('groups').where({ name: 'Finance' }).first('id')).id;
  await knex('approval_rules').insert({
    process: 'renewal', step_order: 1, name: 'Finance', approver_kind: 'group', group_id: financeGroupId, policy: 'any', on_expiry: 'escalate',
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex('approvals').where({ subject_type: 'contract_renewal' }).delete();
  await knex('approval_rule_versions').whereIn('rule_id', knex('approval_rules').where({ process: 'renewal' }).select('id')).delete();
  await knex('approval_rules').where({ process: 'renewal' }).delete();
  await knex('processes').where({ process: 'renewal' }).delete();
  await knex('sla_targets').where({ process: 'renewal' }).delete();
  await knex.raw(`DROP TRIGGER contract_renewals_process_index ON contract_renewals; DROP FUNCTION processes_from_contract_renewal();`);
  for (const [table, constraint, before] of [
    ['approval_rules', 'approval_rules_process_check', APPROVAL_PROCESSES_BEFORE],
    ['processes', 'processes_process_check', PROCESSES_BEFORE],
    ['sla_targets', 'sla_targets_process_check', PROCESSES_BEFORE],
  ] as const) {
    await knex.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${constraint}`);
    await knex.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${constraint} CHECK (process IN (${quoted(before)}))`);
  }
  await knex.raw(`ALTER TABLE approvals DROP CONSTRAINT approvals_subject_type_check`);
  await knex.raw(`ALTER TABLE approvals ADD CONSTRAINT approvals_subject_type_check CHECK (subject_type IN (${quoted(SUBJECT_TYPES_BEFORE)}))`);
  await knex.raw('DROP VIEW contract_terms');
  await knex.schema.dropTable('contract_renewals');
  await knex.raw('DROP SEQUENCE contract_renewal_number_seq');
  await knex.schema.dropTable('optimisation_findings');
  await knex.raw('DROP SEQUENCE finding_number_seq');
  await knex.schema.dropTable('budget_alerts');
  await knex.schema.dropTable('cost_allocations');
  await knex.schema.dropTable('allocation_runs');
  await knex.schema.dropTable('allocation_rules');
  await knex.schema.dropTable('cost_allocation_tag_keys');
  await knex.schema.alterTable('cost_records', (t) => {
    t.dropIndex([], 'cost_records_charge_period_index');
    t.dropIndex([], 'cost_records_cost_import_index');
    t.dropForeign([], 'cost_records_application_fk');
    t.dropForeign([], 'cost_records_business_service_fk');
    t.dropForeign([], 'cost_records_cost_import_fk');
    t.dropColumns('contracted_cost', 'consumed_quantity', 'charge_class', 'billing_account_id', 'sub_account_id', 'cost_import_id', 'business_service_id', 'application_id');
  });
  for (const column of ['billed_cost', 'effective_cost', 'list_cost']) {
    await knex.raw(`ALTER TABLE cost_records ALTER COLUMN ${column} TYPE numeric(20, 6)`);
  }
  await knex.schema.dropTable('cost_import_scopes');
  await knex.schema.dropTable('cost_import_refusals');
  await knex.schema.dropTable('cost_import_rows');
  await knex.schema.dropTable('cost_imports');
  await knex.raw('DROP SEQUENCE cost_import_number_seq');
}
