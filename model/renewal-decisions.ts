/**
 * Contract renewal decisions (issue 17): the latest term of a contract inside its notice period is
 * renewed or let lapse as its approvers (Finance, by the approval rules of process renewal) decide.
 * One open decision per contract (a partial unique index): a second request answers the open one.
 * The API opens a decision here and starts its workflow; the workflow's activities write the rest.
 *
 * A contract's terms are its own (starts_on to ends_on on the contract) and each renewed one after
 * it (the view contract_terms). A decision is about the latest term, opened only inside that term's
 * notice period (renewal_notice_days before its end, up to its end), and once per term (a unique
 * index; a cancelled decision does not count). Renewing writes the next term on the decision: it
 * starts the day after the decided term ends, lasts as many whole months as that term did (or as
 * many days when it was shorter than a month) and is worth what it was worth. The contract keeps
 * its own term: the rest of the current term is still amortised, and past months stay as they were.
 */
import type { Knex } from 'knex';
import type { RenewalState } from '../domain/processes';
import { isUniqueViolation } from '../platform/database';
import { isUuid } from './keys';

const SUBJECT = 'contract_renewal';

export interface RenewalRequestKey {
  /** The caller's key, scoped to the caller: the same request repeated answers the first outcome. */
  idempotencyKey: string;
  requestedById: string;
  requestedByEmail: string;
}

export interface OpenedRenewal {
  renewalId: string;
  number: string;
  /** Set once its workflow was started; null while (or if) the start has not gone through. */
  workflowId: string | null;
  created: boolean;
}

/** The key of the audit row that remembers what a request opened. */
const requestKeyOf = (key: RenewalRequestKey) => `renewal-request:${key.requestedById}:${key.idempotencyKey}`;

/** What an earlier request with this key opened, if any. */
export async function openedByRequest(db: Knex, key: RenewalRequestKey): Promise<OpenedRenewal | undefined> {
  const row = await db('audit_log').where({ idempotency_key: requestKeyOf(key) }).first('details');
  if (!row) return undefined;
  const opened = row.details.result as OpenedRenewal;
  const current = await db('contract_renewals').where({ id: opened.renewalId }).first('workflow_id');
  return { ...opened, workflowId: current?.workflow_id ?? null };
}

export interface ContractToRenew {
  id: string;
  number: string;
  title: string;
  vendorName: string;
  retiredAt: Date | null;
}

export async function findContractToRenew(db: Knex, ref: string): Promise<ContractToRenew | undefined> {
  const row = await db('contracts as k').join('vendors as v', 'v.id', 'k.vendor_id')
    .where(isUuid(ref) ? { 'k.id': ref } : { 'k.number': ref.toUpperCase() })
    .first('k.id', 'k.number', 'k.title', 'v.name as vendor_name', 'k.retired_at');
  return row ? { id: row.id, number: row.number, title: row.title, vendorName: row.vendor_name, retiredAt: row.retired_at } : undefined;
}

/**
 * The latest term of each contract (contract_id, starts_on, ends_on, value_minor, currency,
 * renewal_id null for the contract's own): whatever asks when a contract ends for its renewal
 * (the notice window, the renewal findings) reads this, never the contract's own ends_on. Join it
 * (`.join(latestTermEnd(db).as('lt'), 'lt.contract_id', 'c.id')`) or embed `latestTermEnd(db).toQuery()`.
 */
export function latestTermEnd(db: Knex): Knex.QueryBuilder {
  return db('contract_terms').distinctOn('contract_id')
    .orderBy([{ column: 'contract_id' }, { column: 'ends_on', order: 'desc' }])
    .select('contract_id', 'starts_on', 'ends_on', 'value_minor', 'currency', 'renewal_id');
}

/** Why no decision was opened; the API answers 409 with the message. */
export interface RenewalRefusal {
  refused: 'not_in_notice_period' | 'contract_ended' | 'term_decided' | 'renewal_changed_meanwhile';
  message: string;
}

const STATE_WORDS: Record<string, string> = { renew: 'renewed', let_lapse: 'let lapse', cancelled: 'cancelled', open: 'open' };

/** The open decision, or the decided one, that another request met between two statements: read everything again. */
const MEANWHILE = Symbol('changed meanwhile');

async function openOnce(
  trx: Knex.Transaction, contract: ContractToRenew, findingId: string | null, key: RenewalRequestKey,
): Promise<OpenedRenewal | RenewalRefusal | typeof MEANWHILE> {
  let opened: OpenedRenewal;
  const open = await trx('contract_renewals').where({ contract_id: contract.id, state: 'open' }).first('id', 'number', 'workflow_id', 'finding_id');
  if (open) {
    opened = { renewalId: open.id, number: open.number, workflowId: open.workflow_id, created: false };
    // A finding acted on while its contract was being decided already is resolved by that decision.
    if (findingId && !open.finding_id) await trx('contract_renewals').where({ id: open.id }).whereNull('finding_id').update({ finding_id: findingId });
  } else {
    const term = await trx.from(latestTermEnd(trx).as('t')).join('contracts as k', 'k.id', 't.contract_id').where('t.contract_id', contract.id)
      .first('t.ends_on', 'k.renewal_notice_days', trx.raw('(t.ends_on - k.renewal_notice_days) AS notice_from'),
        trx.raw('(CURRENT_DATE < t.ends_on - k.renewal_notice_days) AS before_notice'), trx.raw('(CURRENT_DATE > t.ends_on) AS ended'));
    if (term.before_notice) {
      return {
        refused: 'not_in_notice_period',
        message: `${contract.number} runs until ${term.ends_on}: its renewal is decided in its notice period, from ${term.notice_from} `
          + `(${term.renewal_notice_days} days before it ends) until it ends; nothing was opened, ask again then`,
      };
    }
    if (term.ended) {
      return { refused: 'contract_ended', message: `${contract.number} ended on ${term.ends_on}: there is no term left to renew; nothing was opened` };
    }
    const decided = await trx('contract_renewals').where({ contract_id: contract.id, term_ends_on: term.ends_on }).whereNot({ state: 'cancelled' }).first('number', 'state');
    if (decided) {
      return {
        refused: 'term_decided',
        message: `the term of ${contract.number} ending ${term.ends_on} was decided already by ${decided.number} (${STATE_WORDS[decided.state] ?? decided.state}); nothing was opened`,
      };
    }
    const title = `Renew ${contract.title} (${contract.number}) with ${contract.vendorName}?`;
    const inserted: { id: string; number: string }[] = (await trx.raw(
      `INSERT INTO contract_renewals (contract_id, finding_id, title, requested_by_id, term_ends_on)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (contract_id) WHERE state = 'open' DO NOTHING
       RETURNING id, number`,
      [contract.id, findingId, title, key.requestedById, term.ends_on],
    )).rows;
    // Another request opened one after this one looked: that one is the answer, read again.
    if (inserted.length === 0) return MEANWHILE;
    opened = { renewalId: inserted[0].id, number: inserted[0].number, workflowId: null, created: true };
  }
  await trx('audit_log').insert({
    idempotency_key: requestKeyOf(key), actor: key.requestedByEmail, subject_type: SUBJECT, subject_id: opened.renewalId,
    action: opened.created ? 'requested' : 'requested_again', to_state: 'open',
    details: { contract: contract.number, findingId, result: opened },
  });
  return opened;
}

/**
 * Opens the renewal decision of a contract's latest term, or answers the open one (created false),
 * or says why not (outside the term's notice period, the term decided already). Two requests at
 * once meet at the unique indexes; the later one reads again, once, and finds what the earlier did.
 * The request is remembered under its key with the answer, in the same transaction.
 */
export async function openRenewalDecision(
  db: Knex, contract: ContractToRenew, findingId: string | null, key: RenewalRequestKey,
): Promise<OpenedRenewal | RenewalRefusal> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    let answer: OpenedRenewal | RenewalRefusal | typeof MEANWHILE;
    try {
      answer = await db.transaction((trx) => openOnce(trx, contract, findingId, key));
    } catch (error) {
      // The term was decided by a decision opened and settled after this one looked.
      if (!isUniqueViolation(error, 'contract_renewals_term_unique')) throw error;
      answer = MEANWHILE;
    }
    if (answer !== MEANWHILE) return answer;
  }
  return {
    refused: 'renewal_changed_meanwhile',
    message: `the renewal decision of ${contract.number} was opened and settled by others while this request was answered; nothing was opened, ask again`,
  };
}

/** Records the workflow a decision's start started; the first start wins. */
export async function recordRenewalWorkflow(db: Knex, renewalId: string, workflowId: string): Promise<void> {
  await db('contract_renewals').where({ id: renewalId }).whereNull('workflow_id').update({ workflow_id: workflowId });
}

// ---------------------------------------------------------------------------------------------
// Carrying out a decision (the workflow's activities, in their transaction)
// ---------------------------------------------------------------------------------------------

export interface ContractTerm {
  startsOn: string;
  endsOn: string;
  valueMinor: number;
}

interface DecisionWrite {
  idempotencyKey: string;
  workflowId: string;
  actorEmail: string;
  number: string;
}

/** The decision's contract, locked against an edit of its dates meanwhile, and the term decided about; why not, when either is gone. */
async function termDecided(trx: Knex, contractId: string, termEndsOn: string | null): Promise<{ term: ContractTerm; autoRenew: boolean } | { gone: string }> {
  const contract = await trx('contracts').where({ id: contractId }).forUpdate().first('number', 'auto_renew');
  if (!contract) return { gone: 'its contract does not exist' };
  const term = termEndsOn ? await trx('contract_terms').where({ contract_id: contractId, ends_on: termEndsOn }).first('starts_on', 'ends_on', 'value_minor') : undefined;
  if (!term) return { gone: `${contract.number} has no term ending ${termEndsOn ?? '(none recorded)'} any more (its dates were changed since the decision was opened): nothing was renewed or let lapse` };
  return { term: { startsOn: term.starts_on, endsOn: term.ends_on, valueMinor: term.value_minor }, autoRenew: contract.auto_renew };
}

async function auditContract(trx: Knex, contractId: string, write: DecisionWrite, action: string, details: Record<string, unknown>): Promise<void> {
  await trx('audit_log').insert({
    idempotency_key: `${write.idempotencyKey}:contract`, actor: write.actorEmail, subject_type: 'contract', subject_id: contractId,
    action, workflow_id: write.workflowId, details: { renewal: write.number, ...details },
  });
}

/**
 * The term that follows the decided one (module comment), for the decision to hold; the contract
 * itself is not changed, only audited. Why not, when the contract or that term of it is gone.
 */
export async function renewContractTerm(
  trx: Knex, contractId: string, termEndsOn: string | null, write: DecisionWrite,
): Promise<{ term: ContractTerm; next: ContractTerm } | { gone: string }> {
  const decided = await termDecided(trx, contractId, termEndsOn);
  if ('gone' in decided) return decided;
  const { term } = decided;
  const [next] = (await trx.raw(
    `SELECT t.ends_on + 1 AS starts_on,
            CASE WHEN t.months > 0 THEN ((t.ends_on + 1) + make_interval(months => t.months))::date - 1
                 ELSE t.ends_on + (t.ends_on - t.starts_on + 1) END AS ends_on
       FROM (SELECT d.starts_on, d.ends_on,
                    (extract(year FROM age(d.ends_on + 1, d.starts_on)) * 12 + extract(month FROM age(d.ends_on + 1, d.starts_on)))::int AS months
               FROM (SELECT ?::date AS starts_on, ?::date AS ends_on) AS d) AS t`,
    [term.startsOn, term.endsOn],
  )).rows;
  const renewed = { startsOn: next.starts_on, endsOn: next.ends_on, valueMinor: term.valueMinor };
  await auditContract(trx, contractId, write, 'renewed', { term, next: renewed });
  return { term, next: renewed };
}

/** Stops the contract renewing by itself: it ends with the decided term. Why not, when the contract or that term of it is gone. */
export async function letContractLapse(trx: Knex, contractId: string, termEndsOn: string | null, write: DecisionWrite): Promise<{ term: ContractTerm; next: null } | { gone: string }> {
  const decided = await termDecided(trx, contractId, termEndsOn);
  if ('gone' in decided) return decided;
  if (decided.autoRenew) {
    await trx('contracts').where({ id: contractId }).update({ auto_renew: false, version: trx.raw('version + 1'), updated_at: trx.fn.now() });
  }
  await auditContract(trx, contractId, write, 'let_lapse', { term: decided.term, ...(decided.autoRenew ? { changes: { autoRenew: { from: true, to: false } } } : {}) });
  return { term: decided.term, next: null };
}

/**
 * A decision cancelled gives its finding back: open again (closed_at cleared), the action it had
 * started moved from the finding's action fields into details.pastActions, so that acting on it
 * again opens a new decision. A finding resolved or dismissed meanwhile stays as it is.
 */
async function reopenFinding(trx: Knex, findingId: string, renewal: { number: string; workflowId: string | null; reason: string }): Promise<void> {
  await trx('optimisation_findings').where({ id: findingId }).whereIn('state', ['open', 'acted']).update({
    state: 'open',
    closed_at: null,
    details: trx.raw(
      `details || jsonb_build_object('pastActions', coalesce(details -> 'pastActions', '[]'::jsonb) || jsonb_build_array(jsonb_build_object(
         'process', 'renewal', 'ref', ?::text, 'workflowId', ?::text, 'actedById', acted_by_id, 'endedAs', 'cancelled', 'reason', ?::text, 'endedAt', now())))`,
      [renewal.number, renewal.workflowId, renewal.reason],
    ),
    acted_by_id: null,
    action_workflow_id: null,
    action_ref: null,
  });
}

/**
 * Cancels a decision still open: who withdrew it (none when its workflow gave up by itself) and
 * why, and its finding given back. The decision's state after; undefined when there is none.
 */
export async function cancelOpenDecision(trx: Knex, renewalId: string, cancel: { actorId: string | null; reason: string }): Promise<RenewalState | undefined> {
  const r = await trx('contract_renewals').where({ id: renewalId }).forUpdate().first('state', 'number', 'workflow_id', 'finding_id');
  if (!r) return undefined;
  if (r.state !== 'open') return r.state;
  await trx('contract_renewals').where({ id: renewalId }).update({ state: 'cancelled', decided_by_id: cancel.actorId, decided_at: trx.fn.now(), comment: cancel.reason });
  if (r.finding_id) await reopenFinding(trx, r.finding_id, { number: r.number, workflowId: r.workflow_id, reason: cancel.reason });
  return 'cancelled';
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

export interface RenewalDecisionDetail {
  id: string;
  number: string;
  title: string;
  state: string;
  workflowId: string | null;
  /** The contract with its own term, which a renewal leaves as it is. */
  contract: { id: string; number: string; title: string; vendor: string; startsOn: string; endsOn: string; valueMinor: number; currency: string; autoRenew: boolean; renewalNoticeDays: number };
  /** The term decided about (the contract's latest when the decision was opened); null when it is no longer one of the contract's. */
  term: ContractTerm | null;
  /** Renewed: the term that follows it. */
  nextTerm: ContractTerm | null;
  findingId: string | null;
  requestedBy: { id: string; name: string; email: string } | null;
  decidedBy: { id: string; name: string; email: string } | null;
  decidedAt: string | null;
  comment: string | null;
  createdAt: string;
  approvals: { id: string; approverId: string; approverName: string; step: number; stepName: string; state: string; dueAt: string | null; decidedAt: string | null; comment: string | null }[];
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const person = (id: string | null, name: string | null, email: string | null) => (id ? { id, name: name ?? '', email: email ?? '' } : null);

/** A decision by number (RNW…) or id, with its contract and its approvals; undefined when there is none. */
export async function findRenewalDecision(db: Knex, ref: string): Promise<RenewalDecisionDetail | undefined> {
  const r = await db('contract_renewals as cr').join('contracts as k', 'k.id', 'cr.contract_id').join('vendors as v', 'v.id', 'k.vendor_id')
    .leftJoin('contract_terms as t', (j) => j.on('t.contract_id', 'cr.contract_id').andOn('t.ends_on', 'cr.term_ends_on'))
    .leftJoin('people as rq', 'rq.id', 'cr.requested_by_id').leftJoin('people as dc', 'dc.id', 'cr.decided_by_id')
    .where(isUuid(ref) ? { 'cr.id': ref } : { 'cr.number': ref.toUpperCase() })
    .first('cr.*', 't.starts_on as term_starts_on', 't.value_minor as term_value_minor', 'k.number as contract_number', 'k.title as contract_title', 'v.name as vendor_name', 'k.starts_on', 'k.ends_on', 'k.value_minor',
      'k.currency', 'k.auto_renew', 'k.renewal_notice_days', 'rq.name as requester_name', 'rq.email as requester_email', 'dc.name as decider_name', 'dc.email as decider_email');
  if (!r) return undefined;
  const approvals = await db('approvals as a').join('people as p', 'p.id', 'a.approver_id').where({ 'a.subject_type': SUBJECT, 'a.subject_id': r.id })
    .orderBy('a.created_at').select('a.id', 'a.approver_id', 'p.name', 'a.step_order', 'a.step_name', 'a.state', 'a.due_at', 'a.decided_at', 'a.comment');
  return {
    id: r.id,
    number: r.number,
    title: r.title,
    state: r.state,
    workflowId: r.workflow_id,
    contract: {
      id: r.contract_id, number: r.contract_number, title: r.contract_title, vendor: r.vendor_name, startsOn: r.starts_on, endsOn: r.ends_on,
      valueMinor: Number(r.value_minor), currency: r.currency, autoRenew: r.auto_renew, renewalNoticeDays: r.renewal_notice_days,
    },
    term: r.term_starts_on ? { startsOn: r.term_starts_on, endsOn: r.term_ends_on, valueMinor: r.term_value_minor } : null,
    nextTerm: r.next_starts_on ? { startsOn: r.next_starts_on, endsOn: r.next_ends_on, valueMinor: r.next_value_minor } : null,
    findingId: r.finding_id,
    requestedBy: person(r.requested_by_id, r.requester_name, r.requester_email),
    decidedBy: person(r.decided_by_id, r.decider_name, r.decider_email),
    decidedAt: iso(r.decided_at),
    comment: r.comment,
    createdAt: iso(r.created_at)!,
    approvals: approvals.map((a) => ({
      id: a.id, approverId: a.approver_id, approverName: a.name, step: a.step_order, stepName: a.step_name, state: a.state,
      dueAt: iso(a.due_at), decidedAt: iso(a.decided_at), comment: a.comment,
    })),
  };
}
