import type { Knex } from 'knex';

export interface Page<T> {
  items: T[];
  page: { limit: number; offset: number; total: number };
}

/** Runs a filtered query for one page and the total count of its matches. */
export async function paginate<Row, T>(
  query: Knex.QueryBuilder,
  page: { limit: number; offset: number },
  toItem: (row: Row) => T,
): Promise<Page<T>> {
  const countQuery = query.clone().clearSelect().clearOrder().count<{ count: string }[]>({ count: '*' });
  const [rows, [{ count }]] = await Promise.all([query.clone().limit(page.limit).offset(page.offset), countQuery]);
  return { items: (rows as Row[]).map(toItem), page: { ...page, total: Number(count) } };
}
