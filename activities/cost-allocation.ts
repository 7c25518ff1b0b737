import type { Knex } from 'knex';

/** Scaffolding of issue 17: built next. */
export function createCostAllocationActivities(_deps: { db: Knex }) {
  return {};
}

export type CostAllocationActivities = ReturnType<typeof createCostAllocationActivities>;
