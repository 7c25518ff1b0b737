import type { Knex } from 'knex';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids come from paths: anything but a uuid is nobody, not a database error. */
export const isUuid = (id: string) => UUID.test(id);

/**
 * Rows are found by their id or by their business key (CHG0001001, PR0001001, AST0001001), which
 * people type in any case: the where-clause for whichever `key` is.
 */
export function byIdOrKey(key: string, keyColumn: string, idColumn = 'id'): Record<string, string> {
  return isUuid(key) ? { [idColumn]: key } : { [keyColumn]: key.toUpperCase() };
}

/** The next business key from a sequence, e.g. CHG0001001: reserved before its row exists. */
export async function nextBusinessKey(db: Knex, prefix: string, sequence: string): Promise<string> {
  const { rows } = await db.raw<{ rows: { key: string }[] }>(`SELECT ?::text || lpad(nextval(?::regclass)::text, 7, '0') AS key`, [prefix, sequence]);
  return rows[0].key;
}
