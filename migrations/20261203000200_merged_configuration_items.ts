import type { Knex } from 'knex';

/**
 * A record a data steward merged into another stays (history rows, audit rows and old changes
 * name it), retired, pointing at the record it became: its page and the survivor's say so.
 *
 * Steward cases join the process index as changes and purchases do: a trigger on
 * reconciliation_cases keeps the row of a case that has a workflow current (state, times), and
 * the approvals trigger keeps whom it waits for. The case gets its workflow id only after its
 * workflow started, which may have asked the stewards already: the first row takes them along.
 *
 * Cases are found by their records (the pairs settled among the records a batch row names, the
 * open cases naming a record merged away): a GIN index on ci_ids answers <@ and &&.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('configuration_items', (t) => {
    t.uuid('merged_into_id').references('configuration_items.id').withKeyName('configuration_items_merged_into_fk')
      .comment('set when a data steward merged this record into that one; it is then retired');
    t.index(['merged_into_id'], 'configuration_items_merged_into_index');
    t.check('merged_into_id IS NULL OR merged_into_id <> id', [], 'configuration_items_merged_into_check');
  });

  await knex.raw(`CREATE INDEX reconciliation_cases_ci_ids_index ON reconciliation_cases USING gin (ci_ids)`);

  await knex.raw(`
    CREATE FUNCTION processes_from_reconciliation_case() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      finished boolean := NEW.state <> 'open';
    BEGIN
      IF NEW.workflow_id IS NULL THEN RETURN NEW; END IF;
      INSERT INTO processes AS p (workflow_id, process, subject_id, business_number, title, state, outcome,
                                  waiting_for, waiting_since, started_at, state_entered_at, finished_at, sla_due_at)
      SELECT NEW.workflow_id, 'reconciliation', NEW.id, NEW.number, left(NEW.reason, 200), NEW.state,
             CASE WHEN finished THEN NEW.state END,
             coalesce(w.approvers, '{}'), CASE WHEN cardinality(w.approvers) > 0 THEN w.since END,
             NEW.created_at, now(), CASE WHEN finished THEN coalesce(NEW.decided_at, now()) END,
             process_sla_due('reconciliation', NEW.state, now(), finished)
        FROM (SELECT array_agg(a.approver_id ORDER BY a.created_at) AS approvers, min(a.created_at) AS since
                FROM approvals a WHERE a.workflow_id = NEW.workflow_id AND a.state = 'requested') w
      ON CONFLICT (workflow_id) DO UPDATE SET
        outcome = EXCLUDED.outcome,
        state = EXCLUDED.state,
        state_entered_at = CASE WHEN p.state = EXCLUDED.state THEN p.state_entered_at ELSE now() END,
        finished_at = CASE WHEN finished THEN coalesce(p.finished_at, EXCLUDED.finished_at) END,
        sla_due_at = CASE WHEN p.state = EXCLUDED.state THEN p.sla_due_at
                          ELSE process_sla_due('reconciliation', EXCLUDED.state, now(), finished) END;
      RETURN NEW;
    END $$;

    CREATE TRIGGER reconciliation_cases_process_index AFTER INSERT OR UPDATE OF workflow_id, state ON reconciliation_cases
      FOR EACH ROW EXECUTE FUNCTION processes_from_reconciliation_case();
  `);
  // Cases already started join the index.
  await knex.raw(`UPDATE reconciliation_cases SET workflow_id = workflow_id WHERE workflow_id IS NOT NULL`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER reconciliation_cases_process_index ON reconciliation_cases;
    DROP FUNCTION processes_from_reconciliation_case();
  `);
  await knex('processes').where({ process: 'reconciliation' }).delete();
  await knex.raw('DROP INDEX reconciliation_cases_ci_ids_index');
  await knex.schema.alterTable('configuration_items', (t) => {
    t.dropChecks(['configuration_items_merged_into_check']);
    t.dropIndex(['merged_into_id'], 'configuration_items_merged_into_index');
    t.dropForeign(['merged_into_id'], 'configuration_items_merged_into_fk');
    t.dropColumn('merged_into_id');
  });
}
