import type { Knex } from 'knex';

/** Scaffolding of issue 17: built next. */
export function createCostImportActivities(_deps: { db: Knex }) {
  return {};
}

export type CostImportActivities = ReturnType<typeof createCostImportActivities>;
