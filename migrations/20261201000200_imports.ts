import type { Knex } from 'knex';

/**
 * Bulk imports: the file is staged here row by row as it is uploaded (never held whole in
 * memory, and readable by any worker), then an import workflow checks every row (the dry run)
 * and, unless it only previews, applies them chunk by chunk. Each row's verdict and outcome is
 * kept: that is the report, and a chunk applied once is never applied again.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('imports', (t) => {
    t.comment('One uploaded file of master data and what its import workflow did with it.');
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('kind').notNullable().comment('which master data: cost-centres, assets, configuration-items');
    t.text('format').notNullable();
    t.text('file_name');
    t.boolean('dry_run').notNullable().comment('only check and report; write nothing');
    t.text('on_invalid_rows').notNullable().comment('reject_file: any bad row writes nothing; skip_rows: the good rows are written');
    t.text('state').notNullable().defaultTo('receiving');
    t.integer('rows_total').notNullable().defaultTo(0);
    t.integer('rows_checked').notNullable().defaultTo(0);
    t.integer('rows_applied').notNullable().defaultTo(0);
    t.jsonb('counts').notNullable().defaultTo('{}').comment('rows by verdict or outcome: created, updated, unchanged, refused');
    t.text('message').comment('why it was refused or failed, in words');
    t.uuid('requested_by_id').notNullable().references('people.id').withKeyName('imports_requested_by_fk');
    t.text('workflow_id').unique('imports_workflow_unique');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.index(['created_at'], 'imports_created_index');
    t.check(`format IN ('csv', 'jsonl')`, [], 'imports_format_check');
    t.check(`on_invalid_rows IN ('reject_file', 'skip_rows')`, [], 'imports_on_invalid_rows_check');
    t.check(`state IN ('receiving', 'checking', 'applying', 'previewed', 'completed', 'refused', 'failed')`, [], 'imports_state_check');
  });

  await knex.schema.createTable('import_rows', (t) => {
    t.comment('Each row of an import as uploaded, its verdict in the check, and what applying it did.');
    t.uuid('import_id').notNullable().references('imports.id').onDelete('CASCADE').withKeyName('import_rows_import_fk');
    t.integer('row_number').notNullable().comment('1 is the first data row (after a CSV header)');
    t.jsonb('record').comment('the row as parsed; null when the line could not be parsed');
    t.text('natural_key');
    t.text('verdict').comment('what the check found it would do: create, update, unchanged, refuse');
    t.text('outcome').comment('what applying it did: created, updated, unchanged, refused; null until applied');
    t.jsonb('problems').notNullable().defaultTo('[]').comment('[{column, value, reason}]');
    t.jsonb('changes').comment('for an update: {column: {from, to}}');
    t.uuid('record_id').comment('the record it created or updated');
    t.primary(['import_id', 'row_number']);
    t.check(`verdict IS NULL OR verdict IN ('create', 'update', 'unchanged', 'refuse')`, [], 'import_rows_verdict_check');
    t.check(`outcome IS NULL OR outcome IN ('created', 'updated', 'unchanged', 'refused')`, [], 'import_rows_outcome_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('import_rows');
  await knex.schema.dropTable('imports');
}
