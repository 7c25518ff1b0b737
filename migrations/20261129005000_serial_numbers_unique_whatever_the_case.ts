import type { Knex } from 'knex';

/**
 * One serial number, one asset, whatever the letter case and spacing it is written with: the key
 * domain/procurement.ts serialKey computes (spacing dropped, ASCII letters in lower case) kept as a
 * generated column, and unique. The case-sensitive constraint it replaces let 'SN-1' and 'sn-1'
 * become two assets.
 *
 * Assets already on file whose serials collide under the new key are neither changed nor lost: the
 * first recorded (by asset tag) keeps the serial, and each later one names it in serial_conflict_of,
 * out of the unique index, for an asset manager to resolve. Every new asset is held to the index.
 */
const SERIAL_KEY = `translate(serial_number, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(160), 'abcdefghijklmnopqrstuvwxyz')`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE assets ADD COLUMN serial_key text GENERATED ALWAYS AS (${SERIAL_KEY}) STORED`);
  await knex.raw(`COMMENT ON COLUMN assets.serial_key IS 'the serial number as compared: no spacing, ASCII letters in lower case (serialKey)'`);
  await knex.schema.alterTable('assets', (t) => {
    t.uuid('serial_conflict_of').references('assets.id').withKeyName('assets_serial_conflict_of_fk')
      .comment('set by the migration that made serials unique whatever the case: the asset that kept this serial');
  });
  await knex.raw(`
    UPDATE assets a SET serial_conflict_of = ranked.first_id
      FROM (SELECT id, row_number() OVER same_serial AS n, first_value(id) OVER same_serial AS first_id
              FROM assets WHERE serial_key IS NOT NULL
            WINDOW same_serial AS (PARTITION BY serial_key ORDER BY asset_tag)) ranked
     WHERE a.id = ranked.id AND ranked.n > 1`);
  await knex.raw(`CREATE UNIQUE INDEX assets_serial_key_unique ON assets (serial_key) WHERE serial_conflict_of IS NULL`);
  await knex.raw(`ALTER TABLE assets DROP CONSTRAINT assets_serial_unique`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE assets ADD CONSTRAINT assets_serial_unique UNIQUE (serial_number)`);
  await knex.raw(`DROP INDEX assets_serial_key_unique`);
  await knex.schema.alterTable('assets', (t) => {
    t.dropColumn('serial_conflict_of');
    t.dropColumn('serial_key');
  });
}
