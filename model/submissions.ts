import type { Knex } from 'knex';
import type { ProcessKind } from '../domain/processes';

/** The number (and ids) a submission reserved, before its workflow registers the request row. */
export interface Submission {
  process: Extract<ProcessKind, 'change' | 'procurement'>;
  subjectId: string;
  number: string;
  workflowId: string;
}

const columns = ['process', 'subject_id as subjectId', 'number', 'workflow_id as workflowId'];

/** What an earlier request with the same Idempotency-Key reserved, if any. */
export function findSubmission(db: Knex, requesterId: string, idempotencyKey: string): Promise<Submission | undefined> {
  return db('submissions').where({ requester_id: requesterId, idempotency_key: idempotencyKey }).first(columns);
}

/**
 * Remembers what an Idempotency-Key reserved. Two requests racing with the same key both get the
 * first one's reservation (the primary key decides), so only one request row is ever registered.
 */
export async function rememberSubmission(db: Knex, requesterId: string, idempotencyKey: string, reserved: Submission): Promise<Submission> {
  await db('submissions')
    .insert({
      requester_id: requesterId,
      idempotency_key: idempotencyKey,
      process: reserved.process,
      subject_id: reserved.subjectId,
      number: reserved.number,
      workflow_id: reserved.workflowId,
    })
    .onConflict(['requester_id', 'idempotency_key'])
    .ignore();
  return (await findSubmission(db, requesterId, idempotencyKey))!;
}

/**
 * Claims an Idempotency-Key for a caller with the fingerprint of the request it names, and answers
 * the fingerprint the key is bound to: this one, or the one it was first sent with (the primary key
 * decides between requests racing with the same key).
 */
export async function claimIdempotencyKey(db: Knex, callerId: string, idempotencyKey: string, fingerprint: string): Promise<string> {
  await db('idempotency_keys')
    .insert({ caller_id: callerId, idempotency_key: idempotencyKey, request_fingerprint: fingerprint })
    .onConflict(['caller_id', 'idempotency_key'])
    .ignore();
  const { request_fingerprint: bound } = await db('idempotency_keys')
    .where({ caller_id: callerId, idempotency_key: idempotencyKey })
    .first('request_fingerprint');
  return bound;
}
