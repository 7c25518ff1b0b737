import type { Knex } from 'knex';

/** Scaffolding of issue 17: built next. */
export function createRenewalDecisionActivities(_deps: { db: Knex }) {
  return {};
}

export type RenewalDecisionActivities = ReturnType<typeof createRenewalDecisionActivities>;
