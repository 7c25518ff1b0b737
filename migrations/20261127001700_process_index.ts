import type { Knex } from 'knex';

/**
 * The process index: one row per change, purchase and asset lifecycle, for process owners to
 * filter and sort on 100,000 processes with one indexed query. Triggers keep it current from the
 * rows the workflows already write (state, approvals), so no activity has to remember to; SLA
 * targets are data.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sla_targets', (t) => {
    t.comment('How long a process may stay in a state (or in all, state "*") before it breaches its SLA.');
    t.text('process').notNullable();
    t.text('state').notNullable();
    t.integer('target_minutes').notNullable();
    t.primary(['process', 'state']);
    t.check(`process IN ('change', 'procurement', 'asset_lifecycle')`, [], 'sla_targets_process_check');
    t.check('target_minutes > 0', [], 'sla_targets_minutes_check');
  });

  await knex.schema.createTable('processes', (t) => {
    t.comment('Projection of every workflow for lists and dashboards; maintained by triggers.');
    t.text('workflow_id').primary();
    t.text('process').notNullable();
    t.uuid('subject_id').notNullable().unique('processes_subject_unique');
    t.text('business_number').notNullable();
    t.text('title').notNullable();
    t.text('state').notNullable();
    t.text('outcome');
    t.uuid('requester_id').references('people.id').withKeyName('processes_requester_fk');
    t.uuid('cost_centre_id').references('cost_centres.id').withKeyName('processes_cost_centre_fk');
    t.specificType('service_ids', 'uuid[]').notNullable().defaultTo('{}').comment('business services a change reaches');
    t.specificType('waiting_for', 'uuid[]').notNullable().defaultTo('{}').comment('approvers whose decision it waits for');
    t.timestamp('waiting_since', { useTz: true });
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('state_entered_at', { useTz: true }).notNullable();
    t.timestamp('finished_at', { useTz: true });
    t.timestamp('sla_due_at', { useTz: true }).comment('when the current state breaches its target; null without one');
    t.check(`process IN ('change', 'procurement', 'asset_lifecycle')`, [], 'processes_process_check');
  });
  await knex.raw('CREATE INDEX processes_started_index ON processes (started_at DESC, workflow_id)');
  await knex.raw('CREATE INDEX processes_process_state_index ON processes (process, state, started_at DESC)');
  await knex.raw('CREATE INDEX processes_requester_index ON processes (requester_id, started_at DESC)');
  await knex.raw('CREATE INDEX processes_cost_centre_index ON processes (cost_centre_id)');
  await knex.raw('CREATE INDEX processes_waiting_for_index ON processes USING gin (waiting_for)');
  await knex.raw('CREATE INDEX processes_service_index ON processes USING gin (service_ids)');
  await knex.raw('CREATE INDEX processes_open_sla_index ON processes (sla_due_at) WHERE finished_at IS NULL');

  await knex.raw(`
    CREATE FUNCTION process_sla_due(p_process text, p_state text, p_entered timestamptz, p_finished boolean) RETURNS timestamptz
    LANGUAGE sql STABLE AS $$
      SELECT CASE WHEN p_finished THEN NULL
                  ELSE p_entered + make_interval(mins => t.target_minutes) END
        FROM sla_targets t WHERE t.process = p_process AND t.state = p_state
    $$;

    CREATE FUNCTION processes_from_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      finished boolean := NEW.state = 'closed';
    BEGIN
      IF NEW.workflow_id IS NULL THEN RETURN NEW; END IF;
      INSERT INTO processes AS p (workflow_id, process, subject_id, business_number, title, state, outcome, requester_id,
                                  cost_centre_id, service_ids, started_at, state_entered_at, finished_at, sla_due_at)
      VALUES (NEW.workflow_id, 'change', NEW.id, NEW.number, NEW.title, NEW.state, NEW.close_code, NEW.requester_id, NEW.cost_centre_id,
              coalesce(ARRAY(SELECT (s->>'id')::uuid FROM jsonb_array_elements(NEW.impact->'services'->'businessServices') s), '{}'),
              NEW.created_at, now(), CASE WHEN finished THEN now() END,
              process_sla_due('change', NEW.state, now(), finished))
      ON CONFLICT (workflow_id) DO UPDATE SET
        title = EXCLUDED.title,
        outcome = EXCLUDED.outcome,
        cost_centre_id = EXCLUDED.cost_centre_id,
        service_ids = EXCLUDED.service_ids,
        state = EXCLUDED.state,
        state_entered_at = CASE WHEN p.state = EXCLUDED.state THEN p.state_entered_at ELSE now() END,
        finished_at = CASE WHEN finished THEN coalesce(p.finished_at, now()) END,
        sla_due_at = CASE WHEN p.state = EXCLUDED.state THEN p.sla_due_at
                          ELSE process_sla_due('change', EXCLUDED.state, now(), finished) END;
      RETURN NEW;
    END $$;

    CREATE TRIGGER change_requests_process_index AFTER INSERT OR UPDATE ON change_requests
      FOR EACH ROW EXECUTE FUNCTION processes_from_change();

    CREATE FUNCTION processes_from_purchase() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      finished boolean := NEW.state IN ('closed', 'rejected', 'cancelled');
    BEGIN
      IF NEW.workflow_id IS NULL THEN RETURN NEW; END IF;
      INSERT INTO processes AS p (workflow_id, process, subject_id, business_number, title, state, outcome, requester_id,
                                  cost_centre_id, started_at, state_entered_at, finished_at, sla_due_at)
      VALUES (NEW.workflow_id, 'procurement', NEW.id, NEW.number, left(NEW.justification, 200), NEW.state, NEW.outcome, NEW.requester_id,
              NEW.cost_centre_id, NEW.created_at, now(), CASE WHEN finished THEN now() END,
              process_sla_due('procurement', NEW.state, now(), finished))
      ON CONFLICT (workflow_id) DO UPDATE SET
        outcome = EXCLUDED.outcome,
        state = EXCLUDED.state,
        state_entered_at = CASE WHEN p.state = EXCLUDED.state THEN p.state_entered_at ELSE now() END,
        finished_at = CASE WHEN finished THEN coalesce(p.finished_at, now()) END,
        sla_due_at = CASE WHEN p.state = EXCLUDED.state THEN p.sla_due_at
                          ELSE process_sla_due('procurement', EXCLUDED.state, now(), finished) END;
      RETURN NEW;
    END $$;

    CREATE TRIGGER purchase_requests_process_index AFTER INSERT OR UPDATE ON purchase_requests
      FOR EACH ROW EXECUTE FUNCTION processes_from_purchase();

    CREATE FUNCTION processes_from_asset() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      label text := NEW.state || coalesce('/' || NEW.substate, '');
      finished boolean := NEW.state = 'retired';
    BEGIN
      INSERT INTO processes AS p (workflow_id, process, subject_id, business_number, title, state, outcome, requester_id,
                                  cost_centre_id, started_at, state_entered_at, finished_at, sla_due_at)
      VALUES ('asset:' || NEW.asset_tag, 'asset_lifecycle', NEW.id, NEW.asset_tag,
              (SELECT m.manufacturer || ' ' || m.name FROM hardware_models m WHERE m.id = NEW.model_id),
              NEW.state, CASE WHEN finished THEN NEW.substate END, NEW.assigned_to_id, NEW.cost_centre_id,
              NEW.created_at, now(), CASE WHEN finished THEN coalesce(NEW.retired_at, now()) END,
              process_sla_due('asset_lifecycle', NEW.state, now(), finished))
      ON CONFLICT (workflow_id) DO UPDATE SET
        outcome = EXCLUDED.outcome,
        requester_id = EXCLUDED.requester_id,
        cost_centre_id = EXCLUDED.cost_centre_id,
        state = EXCLUDED.state,
        state_entered_at = CASE WHEN p.state = EXCLUDED.state THEN p.state_entered_at ELSE now() END,
        finished_at = CASE WHEN finished THEN coalesce(p.finished_at, EXCLUDED.finished_at) END,
        sla_due_at = CASE WHEN p.state = EXCLUDED.state THEN p.sla_due_at
                          ELSE process_sla_due('asset_lifecycle', EXCLUDED.state, now(), finished) END;
      RETURN NEW;
    END $$;

    CREATE TRIGGER assets_process_index AFTER INSERT OR UPDATE OF state, substate, assigned_to_id, cost_centre_id ON assets
      FOR EACH ROW EXECUTE FUNCTION processes_from_asset();

    CREATE FUNCTION processes_waiting_from_approvals() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE processes p SET
        waiting_for = w.approvers,
        waiting_since = CASE WHEN cardinality(w.approvers) = 0 THEN NULL ELSE w.since END
        FROM (SELECT coalesce(array_agg(a.approver_id ORDER BY a.created_at), '{}') AS approvers, min(a.created_at) AS since
                FROM approvals a WHERE a.workflow_id = NEW.workflow_id AND a.state = 'requested') w
       WHERE p.workflow_id = NEW.workflow_id;
      RETURN NULL;
    END $$;

    CREATE TRIGGER approvals_process_index AFTER INSERT OR UPDATE OF state ON approvals
      FOR EACH ROW EXECUTE FUNCTION processes_waiting_from_approvals();
  `);

  // What is there already (a database migrated with data) joins the index.
  await knex.raw(`UPDATE change_requests SET workflow_id = workflow_id WHERE workflow_id IS NOT NULL`);
  await knex.raw(`UPDATE purchase_requests SET workflow_id = workflow_id WHERE workflow_id IS NOT NULL`);
  await knex.raw(`UPDATE assets SET state = state`);
  await knex.raw(`UPDATE approvals SET state = state WHERE state = 'requested'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER approvals_process_index ON approvals;
    DROP TRIGGER assets_process_index ON assets;
    DROP TRIGGER purchase_requests_process_index ON purchase_requests;
    DROP TRIGGER change_requests_process_index ON change_requests;
    DROP FUNCTION processes_waiting_from_approvals();
    DROP FUNCTION processes_from_asset();
    DROP FUNCTION processes_from_purchase();
    DROP FUNCTION processes_from_change();
    DROP FUNCTION process_sla_due(text, text, timestamptz, boolean);
  `);
  await knex.schema.dropTable('processes');
  await knex.schema.dropTable('sla_targets');
}
