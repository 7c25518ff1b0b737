import type { Knex } from 'knex';

/** Scaffolding of issue 17: built next. */
export function createBudgetWatchActivities(_deps: { db: Knex }) {
  return {};
}

export type BudgetWatchActivities = ReturnType<typeof createBudgetWatchActivities>;
