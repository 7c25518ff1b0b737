import type { Knex } from 'knex';
import { z } from 'zod';

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('page size, 1 to 200'),
  offset: z.coerce.number().int().min(0).default(0).describe('rows to skip'),
});

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
