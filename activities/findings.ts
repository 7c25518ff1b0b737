import type { Knex } from 'knex';

/** Scaffolding of issue 17: built next. */
export function createFindingActivities(_deps: { db: Knex }) {
  return {};
}

export type FindingActivities = ReturnType<typeof createFindingActivities>;
