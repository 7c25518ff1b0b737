/**
 * Deactivating a person and making them active again: the refusals (oneself, the last admin, a
 * stale version), the one transaction that ends their access (the person row, their API keys, and
 * through a trigger their web sessions), and the approvals that must move to someone else.
 * People are never deleted: history names them.
 */
import type { Knex } from 'knex';
import { DirectoryRefused, staleVersion, type DirectoryRefusal } from '../domain/directory';
import { insertAuditRow } from './audit-rows';
import { isUuid } from './keys';
import { activeAdmins, lockActiveAdmins } from './people';

export interface DeactivationRequest {
  personId: string;
  /** The admin's id: nobody deactivates themselves. */
  actorId: string;
  /** The admin's email, the actor of the audit row and of the keys' revocation. */
  actor: string;
  expectedVersion?: number;
  reason?: string;
}

export interface Deactivation {
  /** False when the person was inactive already: nothing was written. */
  deactivated: boolean;
  version: number;
  keysRevoked: number;
  /** Approvals still waiting for the person: the handover moves them. */
  approvalsToMove: number;
}

const countOf = async (q: Knex.QueryBuilder) => Number((await q.count<{ count: string }[]>({ count: '*' }))[0].count);

type DeactivationCheck = Omit<DeactivationRequest, 'actor' | 'reason'>;
type PersonState = { active: boolean; version: number };

const personState = (db: Knex, personId: string): Knex.QueryBuilder => db('people').where({ id: personId }).first('active', 'version');

/** Why a write based on `expected` is refused when the person is at `current`; null when it is not (or no version was given). */
const refusedStale = (current: number, expected: number | undefined): DirectoryRefusal | null =>
  expected !== undefined && current !== expected ? staleVersion('person', current) : null;

const refusedSelf = (request: DeactivationCheck): DirectoryRefusal | null =>
  request.personId === request.actorId ? { rule: 'cannot_deactivate_self', message: 'you cannot deactivate yourself: ask another admin' } : null;

/** Why deactivating would be refused, given the person (undefined: nobody) and the active admins; null when it would not. */
function refusalOf(request: DeactivationCheck, person: PersonState | undefined, admins: readonly string[]): DirectoryRefusal | null {
  const self = refusedSelf(request);
  if (self) return self;
  if (!person) return { rule: 'not_found', message: `no person ${request.personId}` };
  const stale = refusedStale(person.version, request.expectedVersion);
  if (stale) return stale;
  if (person.active && admins.length === 1 && admins[0] === request.personId) {
    return { rule: 'last_admin', message: 'this is the last active admin: make someone else an admin first' };
  }
  return null;
}

/**
 * Why `request` would be refused now, read without locks (the API asks first, so that a refusal
 * starts no workflow); the deactivation's transaction asks again under its locks.
 */
export async function deactivationRefusal(db: Knex, request: DeactivationCheck): Promise<DirectoryRefusal | null> {
  const [person, admins]: [PersonState | undefined, string[]] = await Promise.all([
    isUuid(request.personId) ? personState(db, request.personId) : undefined,
    activeAdmins(db),
  ]);
  return refusalOf(request, person, admins);
}

/** The checks a deactivation must pass, under the admins' lock and the person's row lock; answers the person's row. */
async function checkDeactivation(trx: Knex.Transaction, request: DeactivationCheck): Promise<PersonState> {
  const self = refusedSelf(request);
  if (self) throw new DirectoryRefused(self);
  // Admins first, in the order every such write takes them, then the person.
  const admins = await lockActiveAdmins(trx);
  const person: PersonState | undefined = isUuid(request.personId) ? await personState(trx, request.personId).forUpdate() : undefined;
  const refusal = refusalOf(request, person, admins);
  if (refusal) throw new DirectoryRefused(refusal);
  return person!;
}

/**
 * Deactivates a person in the caller's transaction: the row (version + 1), every API key they
 * still hold (revoked by the actor), and their web sessions (deleted by the trigger on
 * people.active). Refusals throw DirectoryRefused. A person inactive already is left as they are.
 */
export async function deactivatePersonRow(trx: Knex.Transaction, request: DeactivationRequest): Promise<Deactivation> {
  const person = await checkDeactivation(trx, request);
  const approvalsToMove = await countOf(trx('approvals').where({ approver_id: request.personId, state: 'requested' }));
  if (!person.active) return { deactivated: false, version: person.version, keysRevoked: 0, approvalsToMove };
  const [{ version }] = await trx('people').where({ id: request.personId, version: person.version })
    .update({ active: false, deactivated_at: trx.fn.now(), version: trx.raw('version + 1'), updated_at: trx.fn.now() })
    .returning('version');
  const keysRevoked = await trx('api_keys').where({ person_id: request.personId }).whereNull('revoked_at')
    .update({ revoked_at: trx.fn.now(), revoked_by: request.actor });
  return { deactivated: true, version, keysRevoked, approvalsToMove };
}

/**
 * Makes a deactivated person active again, audited as `person_reactivated`, in one transaction.
 * Their keys stay revoked: a returning person is given new ones. Answers whether anything changed.
 */
export async function reactivatePerson(db: Knex, request: { personId: string; actor: string; expectedVersion?: number }): Promise<boolean> {
  return db.transaction(async (trx) => {
    const person: PersonState | undefined = isUuid(request.personId) ? await personState(trx, request.personId).forUpdate() : undefined;
    if (!person) throw new DirectoryRefused({ rule: 'not_found', message: `no person ${request.personId}` });
    const stale = refusedStale(person.version, request.expectedVersion);
    if (stale) throw new DirectoryRefused(stale);
    if (person.active) return false;
    const [{ version }] = await trx('people').where({ id: request.personId })
      .update({ active: true, deactivated_at: null, version: trx.raw('version + 1'), updated_at: trx.fn.now() })
      .returning('version');
    await insertAuditRow(trx, {
      actor: request.actor,
      subjectType: 'person',
      subjectId: request.personId,
      action: 'person_reactivated',
      details: { before: { active: false, version: person.version }, after: { active: true, version } },
    });
    return true;
  });
}

/** The approvals waiting for a person's decision, with the workflow each belongs to. */
export function openApprovalsOfPerson(db: Knex, personId: string): Promise<{ approvalId: string; workflowId: string }[]> {
  return db('approvals').where({ approver_id: personId, state: 'requested' }).orderBy(['created_at', 'id'])
    .select('id as approvalId', 'workflow_id as workflowId');
}
