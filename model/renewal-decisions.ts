/**
 * Contract renewal decisions (issue 17): a contract inside its notice period is renewed or let
 * lapse as its approvers (Finance, by the approval rules of process renewal) decide. One open
 * decision per contract (a partial unique index): a second request answers the open one. The API
 * opens a decision here and starts its workflow; the workflow's activities write the rest.
 *
 * A renewal runs the contract on for one term of the length it has now: the new term starts the
 * day after the old one ends and lasts as many whole months as the old one did (starts_on to
 * ends_on), or as many days when it was shorter than a month. Both dates move, so the contract
 * always shows its current term and its value stays the value of a term.
 */
import type { Knex } from 'knex';
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
 * Opens the renewal decision of a contract, or answers the open one (created false): two requests
 * at once meet at the partial unique index, and the later one reads the decision the earlier made.
 * The request is remembered under its key with the answer, in the same transaction.
 */
export async function openRenewalDecision(
  db: Knex, contract: ContractToRenew, findingId: string | null, key: RenewalRequestKey,
): Promise<OpenedRenewal> {
  return db.transaction(async (trx) => {
    const title = `Renew ${contract.title} (${contract.number}) with ${contract.vendorName}?`;
    const inserted: { id: string; number: string }[] = (await trx.raw(
      `INSERT INTO contract_renewals (contract_id, finding_id, title, requested_by_id)
       VALUES (?, ?, ?, ?)
       ON CONFLICT (contract_id) WHERE state = 'open' DO NOTHING
       RETURNING id, number`,
      [contract.id, findingId, title, key.requestedById],
    )).rows;
    let opened: OpenedRenewal;
    if (inserted.length > 0) {
      opened = { renewalId: inserted[0].id, number: inserted[0].number, workflowId: null, created: true };
    } else {
      const open = await trx('contract_renewals').where({ contract_id: contract.id, state: 'open' }).first('id', 'number', 'workflow_id', 'finding_id');
      // Settled between the insert and this read: a retry opens a new one.
      if (!open) throw new Error(`the open renewal decision of ${contract.number} was settled meanwhile; try again`);
      // A finding acted on while its contract was being decided already is resolved by that decision.
      if (findingId && !open.finding_id) await trx('contract_renewals').where({ id: open.id }).whereNull('finding_id').update({ finding_id: findingId });
      opened = { renewalId: open.id, number: open.number, workflowId: open.workflow_id, created: false };
    }
    await trx('audit_log').insert({
      idempotency_key: requestKeyOf(key), actor: key.requestedByEmail, subject_type: SUBJECT, subject_id: opened.renewalId,
      action: opened.created ? 'requested' : 'requested_again', to_state: 'open',
      details: { contract: contract.number, findingId, result: opened },
    });
    return opened;
  });
}

/** Records the workflow a decision's start started; the first start wins. */
export async function recordRenewalWorkflow(db: Knex, renewalId: string, workflowId: string): Promise<void> {
  await db('contract_renewals').where({ id: renewalId }).whereNull('workflow_id').update({ workflow_id: workflowId });
}

// ---------------------------------------------------------------------------------------------
// Carrying out a decision (the workflow's activity, in its transaction)
// ---------------------------------------------------------------------------------------------

export interface ContractTerm {
  startsOn: string;
  endsOn: string;
  autoRenew: boolean;
}

interface DecisionWrite {
  idempotencyKey: string;
  workflowId: string;
  actorEmail: string;
  number: string;
}

const termOf = (r: Record<string, any>): ContractTerm => ({ startsOn: r.starts_on, endsOn: r.ends_on, autoRenew: r.auto_renew });

async function lockedContract(trx: Knex, contractId: string): Promise<Record<string, any> | undefined> {
  return trx('contracts').where({ id: contractId }).forUpdate().first('id', 'starts_on', 'ends_on', 'auto_renew', 'version');
}

async function auditContract(trx: Knex, contractId: string, write: DecisionWrite, action: string, before: ContractTerm, after: ContractTerm): Promise<void> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const column of ['startsOn', 'endsOn', 'autoRenew'] as const) {
    if (before[column] !== after[column]) changes[column] = { from: before[column], to: after[column] };
  }
  await trx('audit_log').insert({
    idempotency_key: `${write.idempotencyKey}:contract`, actor: write.actorEmail, subject_type: 'contract', subject_id: contractId,
    action, workflow_id: write.workflowId, details: { renewal: write.number, changes },
  });
}

/** Moves the contract on by one term of its current length (module comment), bumping its version; undefined when it is gone. */
export async function renewContractTerm(trx: Knex, contractId: string, write: DecisionWrite): Promise<{ before: ContractTerm; after: ContractTerm } | undefined> {
  const current = await lockedContract(trx, contractId);
  if (!current) return undefined;
  const [updated] = (await trx.raw(
    `UPDATE contracts AS k SET
       starts_on = k.ends_on + 1,
       ends_on = CASE WHEN t.months > 0 THEN ((k.ends_on + 1) + make_interval(months => t.months))::date - 1
                      ELSE k.ends_on + (k.ends_on - k.starts_on + 1) END,
       version = k.version + 1,
       updated_at = now()
     FROM (SELECT id, (extract(year FROM age(ends_on + 1, starts_on)) * 12 + extract(month FROM age(ends_on + 1, starts_on)))::int AS months
             FROM contracts WHERE id = ?) AS t
     WHERE k.id = t.id
     RETURNING k.starts_on, k.ends_on, k.auto_renew`,
    [contractId],
  )).rows;
  const before = termOf(current);
  const after = termOf(updated);
  await auditContract(trx, contractId, write, 'renewed', before, after);
  return { before, after };
}

/** Stops the contract renewing by itself: it ends on its end date. Undefined when it is gone. */
export async function letContractLapse(trx: Knex, contractId: string, write: DecisionWrite): Promise<{ before: ContractTerm; after: ContractTerm } | undefined> {
  const current = await lockedContract(trx, contractId);
  if (!current) return undefined;
  const [updated] = await trx('contracts').where({ id: contractId })
    .update({ auto_renew: false, version: trx.raw('version + 1'), updated_at: trx.fn.now() })
    .returning(['starts_on', 'ends_on', 'auto_renew']);
  const before = termOf(current);
  const after = termOf(updated);
  await auditContract(trx, contractId, write, 'let_lapse', before, after);
  return { before, after };
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
  contract: { id: string; number: string; title: string; vendor: string; startsOn: string; endsOn: string; valueMinor: number; currency: string; autoRenew: boolean; renewalNoticeDays: number };
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
    .leftJoin('people as rq', 'rq.id', 'cr.requested_by_id').leftJoin('people as dc', 'dc.id', 'cr.decided_by_id')
    .where(isUuid(ref) ? { 'cr.id': ref } : { 'cr.number': ref.toUpperCase() })
    .first('cr.*', 'k.number as contract_number', 'k.title as contract_title', 'v.name as vendor_name', 'k.starts_on', 'k.ends_on', 'k.value_minor',
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
