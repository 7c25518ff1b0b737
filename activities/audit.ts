import type { Knex } from 'knex';
import { refuseInvalidWrite } from './failures';

export interface AuditEntry {
  idempotencyKey: string;
  actor: string;
  subjectType: string;
  subjectId: string;
  action: string;
  fromState?: string | null;
  toState?: string | null;
  details?: Record<string, unknown>;
  workflowId?: string;
}

/** What an activity's input names for its audit row: its key, its process and its subject. */
export interface AuditedInput {
  idempotencyKey: string;
  workflowId: string;
  subjectType: string;
  subjectId: string;
}

/** The audit entry of `action`, taken by `actor` on the process and subject the input names. */
export function auditEntryOf(input: AuditedInput, actor: string, action: string, details?: Record<string, unknown>): AuditEntry {
  return { idempotencyKey: input.idempotencyKey, workflowId: input.workflowId, actor, subjectType: input.subjectType, subjectId: input.subjectId, action, details };
}

interface StoredResult<T> {
  result: T;
}

async function storedResult<T>(db: Knex, idempotencyKey: string): Promise<T | undefined> {
  const row = await db('audit_log').where({ idempotency_key: idempotencyKey }).first('details');
  return row ? (row.details as StoredResult<T>).result : undefined;
}

/**
 * Runs a write and its audit row in one transaction, once per idempotency key. A retry after a
 * crash, or a duplicate delivery, finds the audit row and returns the result it recorded.
 */
export async function recordOnce<T>(
  db: Knex,
  entry: AuditEntry,
  work: (trx: Knex.Transaction) => Promise<{ result: T; details?: Record<string, unknown> }>,
): Promise<T> {
  const earlier = await storedResult<T>(db, entry.idempotencyKey);
  if (earlier !== undefined) return earlier;
  try {
    return await db.transaction(async (trx) => {
      const { result, details } = await work(trx);
      await trx('audit_log').insert({
        idempotency_key: entry.idempotencyKey,
        actor: entry.actor,
        subject_type: entry.subjectType,
        subject_id: entry.subjectId,
        action: entry.action,
        from_state: entry.fromState ?? null,
        to_state: entry.toState ?? null,
        details: { ...entry.details, ...details, result },
        workflow_id: entry.workflowId ?? null,
      });
      return result;
    });
  } catch (error) {
    // A concurrent execution of the same activity won the race: its result is the result.
    const winner = await storedResult<T>(db, entry.idempotencyKey);
    if (winner !== undefined) return winner;
    throw error;
  }
}

/**
 * The first write of a request's workflow: its row as submitted, once, with the `submitted` audit
 * row. A submission the model refuses (a constraint, a bad value) is refused for good as `refusedAs`.
 */
export async function registerSubmitted(
  db: Knex,
  entry: Omit<AuditEntry, 'action'>,
  insert: (trx: Knex.Transaction) => Promise<void>,
  refusedAs: string,
): Promise<void> {
  await recordOnce(db, { ...entry, action: 'submitted' }, async (trx) => {
    await insert(trx);
    return { result: null };
  }).catch((error: unknown) => refuseInvalidWrite(error, refusedAs));
}
