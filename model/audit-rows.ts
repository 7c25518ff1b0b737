/**
 * The audit row of a write that no workflow retries (an admin's API call or form, a sign-in):
 * written in the write's own transaction, under an idempotency key of its own. Activities write
 * theirs through recordOnce (activities/audit.ts), keyed by what a retry would repeat.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * The subjects of such writes: the directory's (person, group, api_key, sso_role_mapping), master
 * data's (cost_centre, configuration_item... as each kind names it) and configuration's.
 */
type SubjectType = string;

export interface AuditRow {
  /** A person's email, or system:<component>. */
  actor: string;
  subjectType: SubjectType;
  subjectId: string;
  action: string;
  /** For a subject with states (an API key's status): the state before, and after. */
  fromState?: string | null;
  toState?: string | null;
  /** The values before and after, and whatever else explains the write. */
  details: Record<string, unknown>;
  /** Where the write came from, the idempotency key's prefix: `api` (the default) or `sso`. */
  keyPrefix?: string;
}

export async function insertAuditRow(trx: Knex.Transaction, row: AuditRow): Promise<void> {
  await trx('audit_log').insert({
    // Nobody retries such a write on its own, so a fresh key per write is enough.
    idempotency_key: `${row.keyPrefix ?? 'api'}:${randomUUID()}`,
    actor: row.actor,
    subject_type: row.subjectType,
    subject_id: row.subjectId,
    action: row.action,
    from_state: row.fromState ?? null,
    to_state: row.toState ?? null,
    details: row.details,
  });
}
