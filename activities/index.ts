import type { Knex } from 'knex';
import type { Mailer } from '../platform/mailer';
import { createAssetLifecycleActivities } from './asset-lifecycle';

export interface ActivityDeps {
  db: Knex;
  mailer: Mailer;
  publicUrl: string;
  securityNoticeEmail: string;
}

/** Every activity the workers register; workflows proxy them by these names. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createAssetLifecycleActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
