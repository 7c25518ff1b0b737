/**
 * The contract renewal decision (issue 17) with real Temporal and Postgres: a contract inside the
 * notice period of its latest term is asked of Finance through the shared approval steps (task email
 * with a signed link, the inbox); approve writes the next term on the decision and leaves the
 * contract's current term, reject lets it lapse with the comment kept; the decision is a process
 * 'renewal' in the process list; a second request while one is open answers that one, and none is
 * opened outside the notice period or for a term decided already; a process owner withdraws one,
 * and the finding it came from is open again.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { ApplicationFailure } from '@temporalio/common';
import { createRenewalDecisionActivities } from '../activities/renewal-decisions';
import { startRenewalDecision } from '../api/renewal-decisions';
import { describeApprovalSubjects } from '../model/approval-subjects';
import { FINAL_STATES, RENEWAL_STATES } from '../domain/processes';
import { RELAXED_APPROVAL_TIMINGS, call, send, startStack, type Stack } from './support/stack';
import { createPerson, createVendor, eventually, type TestPerson } from './support/fixtures';
import { browse, signInWithKey, webAgent } from './support/web-agent';
import { recordHistory } from './support/histories';

jest.setTimeout(120_000);

const unique = () => randomBytes(4).toString('hex');

let stack: Stack;
let db: Knex;
let owner: TestPerson;
let assetManager: TestPerson;
let finance: TestPerson;
let financeGroupId: string;

beforeAll(async () => {
  stack = await startStack();
  db = stack.database.db;
  owner = await createPerson(db, ['process_owner'], `Owner ${unique()}`);
  assetManager = await createPerson(db, ['asset_manager'], `Keeper ${unique()}`);
  finance = await createPerson(db, ['approver'], `Controller ${unique()}`);
  financeGroupId = (await db('groups').where({ name: 'Finance' }).first('id')).id;
  await db('group_members').insert({ group_id: financeGroupId, person_id: finance.id });
});

afterAll(async () => {
  await db?.('group_members').where({ group_id: financeGroupId, person_id: finance?.id ?? null }).delete();
  await stack?.stop();
});

/** A support contract of a year that ends on 31 December this year, so today (late November) is inside its 60 days of notice. */
async function contractInNotice(term = { startsOn: `${new Date().getUTCFullYear()}-01-01`, endsOn: `${new Date().getUTCFullYear()}-12-31` }): Promise<{ id: string; number: string; title: string }> {
  const vendorId = await createVendor(db, `Renewco ${unique()}`);
  const [row] = await db('contracts').insert({
    vendor_id: vendorId, kind: 'support', title: `Support ${unique()}`, starts_on: term.startsOn, ends_on: term.endsOn,
    value_minor: 1_200_000, currency: 'EUR', auto_renew: true, renewal_notice_days: 60,
  }).returning(['id', 'number', 'title']);
  return row;
}

/** A finding acted upon for the contract, as the findings' act leaves it. */
async function actedFinding(contract: { id: string; number: string }): Promise<string> {
  const [finding] = await db('optimisation_findings').insert({
    kind: 'contract_renewal_due', subject_type: 'contract', subject_id: contract.id, subject_ref: contract.number, title: `${contract.number} ends soon`,
    effect: 'exposure', amount_minor: 1_200_000, currency: 'EUR', state: 'acted', acted_by_id: owner.id, action_workflow_id: 'renewal:pending', action_ref: 'RNW-pending',
  }).returning('id');
  return finding.id;
}

const depsOf = () => ({ db, temporal: stack.env.client, taskQueue: stack.taskQueue, approvalTimings: RELAXED_APPROVAL_TIMINGS });

const renewalOf = (number: string) => db('contract_renewals').where({ number }).first();
const decidedAs = (number: string, state: string) => eventually(async () => {
  const row = await renewalOf(number);
  return row?.state === state ? row : undefined;
}, 60_000);
const openApprovalOf = (renewalId: string, personId: string) =>
  eventually(() => db('approvals').where({ subject_type: 'contract_renewal', subject_id: renewalId, approver_id: personId, state: 'requested' }).first(), 60_000);

it('asks Finance, and approving renews the contract for one more term, a finished process renewal', async () => {
  const contract = await contractInNotice();
  const year = new Date().getUTCFullYear();
  const key = `renew-${unique()}`;
  const path = `/contracts/${contract.number}/renewal-decision`;
  const opened = await send(stack, owner.apiKey, 'POST', path, { headers: { 'Idempotency-Key': key } });
  expect(opened.status).toBe(201);
  expect(opened.body).toEqual({ number: expect.stringMatching(/^RNW\d{7}$/), workflowId: `renewal:${opened.body.number}`, created: true });
  const { number, workflowId } = opened.body;

  // The same request again answers as the first did; another person's request answers the open decision.
  expect(await send(stack, owner.apiKey, 'POST', path, { headers: { 'Idempotency-Key': key } })).toMatchObject({ status: 201, body: opened.body });
  expect(await send(stack, assetManager.apiKey, 'POST', path, { headers: { 'Idempotency-Key': `other-${unique()}` } }))
    .toMatchObject({ status: 200, body: { number, workflowId, created: false } });
  expect(await db('contract_renewals').where({ contract_id: contract.id })).toHaveLength(1);

  const renewal = await renewalOf(number);
  expect(renewal).toMatchObject({ state: 'open', workflow_id: workflowId, requested_by_id: owner.id });
  expect(renewal.title).toBe(`Renew ${contract.title} (${contract.number}) with ${(await db('vendors').join('contracts', 'contracts.vendor_id', 'vendors.id').where('contracts.id', contract.id).first('vendors.name')).name}?`);

  // Finance gets the task: the email with its signed link, and the inbox.
  const approval = await openApprovalOf(renewal.id, finance.id);
  const mail = await stack.sink.waitFor((m) => m.to.includes(finance.email) && m.subject.includes(number));
  expect(mail.text).toContain(contract.number);
  expect(mail.text).toContain('Approve renews it');
  const inbox = await call(stack, finance.apiKey, 'GET', '/approvals?limit=200');
  expect(inbox.body.items).toContainEqual(expect.objectContaining({ subjectType: 'contract_renewal', subjectId: renewal.id, number }));

  const live = await eventually(async () => {
    const read = await call(stack, owner.apiKey, 'GET', `/renewal-decisions/${number}`);
    return read.body.live?.currentStep ? read : undefined;
  });
  expect(live.status).toBe(200);
  expect(live.body).toMatchObject({
    number, state: 'open', contract: { number: contract.number, endsOn: `${year}-12-31`, autoRenew: true },
    live: { state: 'open', currentStep: { name: 'Finance' } },
  });
  expect(live.body.live.waitingFor).toContain(finance.id);
  expect((await call(stack, assetManager.apiKey, 'GET', `/renewal-decisions/${number}`)).status).toBe(200);

  // The web inbox, the link's page and the process page tell the approver what they decide.
  const agent = webAgent(stack.baseUrl);
  await signInWithKey(agent, finance.apiKey);
  const inboxPage = await browse(agent, 'GET', '/ui/inbox');
  expect(inboxPage.status).toBe(200);
  expect(inboxPage.html).toContain(number);
  const processPage = await browse(agent, 'GET', `/ui/processes/${encodeURIComponent(workflowId)}`);
  expect(processPage.status).toBe(200);
  expect(processPage.html).toContain(contract.number);

  // The link decides, as for any other approval.
  const link = new URL(/(https?:\/\/\S+\/approvals\/[0-9a-f-]+\?token=\S+)/.exec(mail.text)![1]);
  expect(link.pathname).toBe(`/approvals/${approval.id}`);
  const linkPage = await browse(webAgent(stack.baseUrl), 'GET', `${link.pathname}${link.search}`);
  expect(linkPage.status).toBe(200);
  expect(linkPage.html).toContain('Reject lets it lapse');
  const decided = await call(stack, undefined, 'POST', `/approvals/${approval.id}/decision`, { token: link.searchParams.get('token'), decision: 'approved', comment: 'still needed' });
  expect(decided).toMatchObject({ status: 200, body: { decision: 'approved', stepOutcome: 'approved' } });

  const settled = await decidedAs(number, 'renew');
  await recordHistory(stack.env.client, workflowId, 'renewal-decision-renewed.json');
  // The next term is written on the decision; the contract keeps its current term to its end.
  expect(settled).toMatchObject({
    decided_by_id: finance.id, comment: 'still needed', term_ends_on: `${year}-12-31`,
    next_starts_on: `${year + 1}-01-01`, next_ends_on: `${year + 1}-12-31`, next_value_minor: 1_200_000,
  });
  expect(await db('contracts').where({ id: contract.id }).first('starts_on', 'ends_on', 'auto_renew', 'version'))
    .toEqual({ starts_on: `${year}-01-01`, ends_on: `${year}-12-31`, auto_renew: true, version: 1 });
  expect(await db('contract_terms').where({ contract_id: contract.id }).orderBy('starts_on').select('starts_on', 'ends_on', 'value_minor', 'renewal_id')).toEqual([
    { starts_on: `${year}-01-01`, ends_on: `${year}-12-31`, value_minor: 1_200_000, renewal_id: null },
    { starts_on: `${year + 1}-01-01`, ends_on: `${year + 1}-12-31`, value_minor: 1_200_000, renewal_id: renewal.id },
  ]);
  const term = { startsOn: `${year}-01-01`, endsOn: `${year}-12-31`, valueMinor: 1_200_000 };
  const nextTerm = { startsOn: `${year + 1}-01-01`, endsOn: `${year + 1}-12-31`, valueMinor: 1_200_000 };
  expect(await db('audit_log').where({ subject_type: 'contract', subject_id: contract.id, action: 'renewed' }).first('actor', 'details'))
    .toEqual({ actor: finance.email, details: { renewal: number, term, next: nextTerm } });
  expect((await call(stack, owner.apiKey, 'GET', `/renewal-decisions/${number}`)).body)
    .toMatchObject({ state: 'renew', contract: { startsOn: `${year}-01-01`, endsOn: `${year}-12-31` }, term, nextTerm });
  expect(await db('audit_log').where({ subject_type: 'contract_renewal', subject_id: renewal.id, action: 'decided' }).first('to_state')).toEqual({ to_state: 'renew' });

  const processes = await eventually(async () => {
    const listed = await call(stack, owner.apiKey, 'GET', `/processes?type=renewal&q=${number}&open=false`);
    return listed.body.items?.length ? listed : undefined;
  });
  expect(processes.body.items).toEqual([expect.objectContaining({ workflowId, process: 'renewal', businessNumber: number, state: 'renew' })]);
  expect(await db('processes').where({ workflow_id: workflowId }).first('finished_at', 'outcome')).toEqual({ finished_at: expect.any(Date), outcome: 'renew' });
  expect(await stack.env.client.workflow.getHandle(workflowId).result()).toEqual({ renewalId: renewal.id, state: 'renew' });

  // Renewed: the latest term is the next one, whose notice period has not begun; nothing is opened.
  const next = await send(stack, owner.apiKey, 'POST', path, { headers: { 'Idempotency-Key': `next-${unique()}` } });
  expect(next).toMatchObject({ status: 409, body: { error: { code: 'not_in_notice_period' } } });
  expect(next.body.error.message).toContain(`runs until ${year + 1}-12-31`);
  expect(next.body.error.message).toContain(`from ${year + 1}-11-01`);
  expect(await db('contract_renewals').where({ contract_id: contract.id })).toHaveLength(1);
});

it('rejecting lets the contract lapse, keeps the comment and resolves the finding it came from', async () => {
  const contract = await contractInNotice();
  const year = new Date().getUTCFullYear();
  const finding = { id: await actedFinding(contract) };
  const opened = await startRenewalDecision(depsOf(), { contractId: contract.id, findingId: finding.id, requestedBy: { id: owner.id, email: owner.email }, idempotencyKey: `finding-${unique()}` });
  expect(opened.created).toBe(true);
  const renewal = await renewalOf(opened.number);
  expect(renewal.finding_id).toBe(finding.id);
  await openApprovalOf(renewal.id, finance.id);

  // Nobody but an approver asked decides.
  const byOwner = await call(stack, owner.apiKey, 'POST', `/renewal-decisions/${opened.number}/decision`, { decision: 'rejected' });
  expect(byOwner.status).toBe(403);
  const rejected = await call(stack, finance.apiKey, 'POST', `/renewal-decisions/${opened.number}/decision`, { decision: 'rejected', comment: 'moving to another vendor' });
  expect(rejected).toMatchObject({ status: 200, body: { decision: 'rejected', stepOutcome: 'rejected' } });

  const settled = await decidedAs(opened.number, 'let_lapse');
  expect(settled).toMatchObject({ decided_by_id: finance.id, comment: 'moving to another vendor', decided_at: expect.any(Date) });
  expect(await db('contracts').where({ id: contract.id }).first('starts_on', 'ends_on', 'auto_renew'))
    .toEqual({ starts_on: `${year}-01-01`, ends_on: `${year}-12-31`, auto_renew: false });
  expect(await db('optimisation_findings').where({ id: finding.id }).first('state', 'closed_at', 'closing_note'))
    .toEqual({ state: 'resolved', closed_at: expect.any(Date), closing_note: `${opened.number}: let lapse by ${finance.email}: moving to another vendor` });
  expect(await db('processes').where({ workflow_id: opened.workflowId }).first('process', 'state', 'outcome')).toEqual({ process: 'renewal', state: 'let_lapse', outcome: 'let_lapse' });
  const again = await call(stack, finance.apiKey, 'POST', `/renewal-decisions/${opened.number}/decision`, { decision: 'approved' });
  expect(again.status).toBe(409);

  // The term is decided: a second decision for it is refused, though the term is still in its notice period.
  const second = await send(stack, owner.apiKey, 'POST', `/contracts/${contract.number}/renewal-decision`, { headers: { 'Idempotency-Key': `second-${unique()}` } });
  expect(second).toMatchObject({ status: 409, body: { error: { code: 'term_decided' } } });
  expect(second.body.error.message).toContain(`decided already by ${opened.number} (let lapse)`);
  expect(await db('contract_renewals').where({ contract_id: contract.id })).toHaveLength(1);
});

it('opens no decision outside the notice period of the latest term, nor for a contract that has ended', async () => {
  const year = new Date().getUTCFullYear();
  const early = await contractInNotice({ startsOn: `${year + 1}-01-01`, endsOn: `${year + 1}-12-31` });
  const tooEarly = await send(stack, owner.apiKey, 'POST', `/contracts/${early.number}/renewal-decision`, { headers: { 'Idempotency-Key': `early-${unique()}` } });
  expect(tooEarly).toMatchObject({ status: 409, body: { error: { code: 'not_in_notice_period' } } });
  expect(tooEarly.body.error.message).toBe(`${early.number} runs until ${year + 1}-12-31: its renewal is decided in its notice period, from ${year + 1}-11-01 `
    + '(60 days before it ends) until it ends; nothing was opened, ask again then');

  const ended = await contractInNotice({ startsOn: `${year - 1}-01-01`, endsOn: `${year - 1}-12-31` });
  const tooLate = await send(stack, owner.apiKey, 'POST', `/contracts/${ended.number}/renewal-decision`, { headers: { 'Idempotency-Key': `late-${unique()}` } });
  expect(tooLate).toMatchObject({ status: 409, body: { error: { code: 'contract_ended' } } });
  expect(await db('contract_renewals').whereIn('contract_id', [early.id, ended.id])).toHaveLength(0);

  // A renewed term counts: the contract's own term has ended, but the term renewed after it is in its notice period.
  const renewed = await contractInNotice({ startsOn: `${year - 1}-01-01`, endsOn: `${year - 1}-12-31` });
  await db('contract_renewals').insert({
    contract_id: renewed.id, title: 'Renewed last year', state: 'renew', term_ends_on: `${year - 1}-12-31`,
    next_starts_on: `${year}-01-01`, next_ends_on: `${year}-12-31`, next_value_minor: 1_200_000,
  });
  const inNotice = await send(stack, owner.apiKey, 'POST', `/contracts/${renewed.number}/renewal-decision`, { headers: { 'Idempotency-Key': `renewed-${unique()}` } });
  expect(inNotice).toMatchObject({ status: 201, body: { created: true } });
  const opened = await renewalOf(inNotice.body.number);
  expect(opened).toMatchObject({ term_ends_on: `${year}-12-31`, state: 'open' });
  // The approvers read about the term decided, not the contract's own.
  const [summary] = await describeApprovalSubjects(db, [{ type: 'contract_renewal', id: opened.id }]);
  expect(summary?.description).toContain(`runs from ${year}-01-01 to ${year}-12-31`);
});

it('a process owner withdraws an open decision: its approvals cancelled, the contract as it was, the finding open again', async () => {
  const contract = await contractInNotice();
  const findingId = await actedFinding(contract);
  const opened = await startRenewalDecision(depsOf(), { contractId: contract.id, findingId, requestedBy: { id: owner.id, email: owner.email }, idempotencyKey: `withdraw-${unique()}` });
  const renewal = await renewalOf(opened.number);
  const approval = await openApprovalOf(renewal.id, finance.id);
  const path = `/renewal-decisions/${opened.number}/cancel`;

  expect((await call(stack, assetManager.apiKey, 'POST', path, { reason: 'not mine to withdraw' })).status).toBe(403);
  expect((await call(stack, owner.apiKey, 'POST', path, {})).status).toBe(400);
  const withdrawn = await send(stack, owner.apiKey, 'POST', path, { body: { reason: 'the service is being retired' }, headers: { 'Idempotency-Key': `w-${unique()}` } });
  expect(withdrawn).toMatchObject({ status: 200, body: { number: opened.number, state: 'cancelled' } });

  expect(await renewalOf(opened.number)).toMatchObject({
    state: 'cancelled', decided_by_id: owner.id, comment: `withdrawn by ${owner.email}: the service is being retired`, next_starts_on: null,
  });
  expect(await db('approvals').where({ id: approval.id }).first('state')).toEqual({ state: 'cancelled' });
  expect(await db('contracts').where({ id: contract.id }).first('auto_renew', 'version')).toEqual({ auto_renew: true, version: 1 });
  const finding = await db('optimisation_findings').where({ id: findingId }).first();
  expect(finding).toMatchObject({ state: 'open', closed_at: null, acted_by_id: null, action_workflow_id: null, action_ref: null });
  expect(finding.details.pastActions).toEqual([expect.objectContaining({
    process: 'renewal', ref: opened.number, workflowId: opened.workflowId, actedById: owner.id, endedAs: 'cancelled', reason: `withdrawn by ${owner.email}: the service is being retired`,
  })]);
  expect(await stack.env.client.workflow.getHandle(opened.workflowId).result()).toEqual({ renewalId: renewal.id, state: 'cancelled' });
  expect(await db('processes').where({ workflow_id: opened.workflowId }).first('state', 'outcome')).toEqual({ state: 'cancelled', outcome: 'cancelled' });

  // Withdrawn is not decided: again, or a decision on it, is refused; a new request opens a new decision for the term.
  expect(await call(stack, owner.apiKey, 'POST', path, { reason: 'again' })).toMatchObject({ status: 409, body: { error: { code: 'renewal_decided' } } });
  expect((await call(stack, finance.apiKey, 'POST', `/renewal-decisions/${opened.number}/decision`, { decision: 'approved' })).status).toBe(409);
  const reopened = await send(stack, owner.apiKey, 'POST', `/contracts/${contract.number}/renewal-decision`, { headers: { 'Idempotency-Key': `again-${unique()}` } });
  expect(reopened).toMatchObject({ status: 201, body: { created: true } });
  expect(reopened.body.number).not.toBe(opened.number);
});

it('withdraws a decision whose workflow never started, and cancelling after the rounds opens its finding again', async () => {
  const year = new Date().getUTCFullYear();
  const unstarted = await contractInNotice();
  const [stuck] = await db('contract_renewals').insert({ contract_id: unstarted.id, title: 'Start failed', requested_by_id: owner.id, term_ends_on: `${year}-12-31` }).returning(['id', 'number']);
  // No workflow yet: what an approver reads links to no process page.
  const [summary] = await describeApprovalSubjects(db, [{ type: 'contract_renewal', id: stuck.id }], 'UTC');
  expect(summary).toMatchObject({ page: '', meta: expect.stringContaining(`ends ${year}-12-31`) });
  expect(await call(stack, owner.apiKey, 'POST', `/renewal-decisions/${stuck.number}/cancel`, { reason: 'start never went through' }))
    .toMatchObject({ status: 200, body: { number: stuck.number, state: 'cancelled' } });
  expect(await renewalOf(stuck.number)).toMatchObject({ state: 'cancelled', decided_by_id: owner.id });

  const contract = await contractInNotice();
  const findingId = await actedFinding(contract);
  const [renewal] = await db('contract_renewals').insert({
    contract_id: contract.id, finding_id: findingId, title: 'Never answered', requested_by_id: owner.id, term_ends_on: `${year}-12-31`, workflow_id: `renewal:ROUNDS${unique()}`,
  }).returning(['id', 'number', 'workflow_id']);
  const activities = createRenewalDecisionActivities({ db });
  const input = { idempotencyKey: `${renewal.workflow_id}:cancel`, workflowId: renewal.workflow_id, renewalId: renewal.id, rounds: 5, reason: 'asked 5 times', actor: null };
  expect(await activities.cancelRenewalDecision(input)).toEqual({ state: 'cancelled' });
  expect(await activities.cancelRenewalDecision(input)).toEqual({ state: 'cancelled' });
  expect(await renewalOf(renewal.number)).toMatchObject({ state: 'cancelled', decided_by_id: null, comment: 'asked 5 times' });
  const finding = await db('optimisation_findings').where({ id: findingId }).first();
  expect(finding).toMatchObject({ state: 'open', closed_at: null, action_workflow_id: null });
  expect(finding.details.pastActions).toEqual([expect.objectContaining({ ref: renewal.number, endedAs: 'cancelled', reason: 'asked 5 times' })]);
});

it('cancels a decision whose term is gone when it is decided (the contract dates edited meanwhile), writing no term', async () => {
  const contract = await contractInNotice();
  const opened = await startRenewalDecision(depsOf(), { contractId: contract.id, requestedBy: { id: owner.id, email: owner.email }, idempotencyKey: `edited-${unique()}` });
  const renewal = await renewalOf(opened.number);
  await openApprovalOf(renewal.id, finance.id);
  const year = new Date().getUTCFullYear();
  await db('contracts').where({ id: contract.id }).update({ ends_on: `${year + 2}-12-31` });
  const decided = await call(stack, finance.apiKey, 'POST', `/renewal-decisions/${opened.number}/decision`, { decision: 'approved' });
  expect(decided.status).toBe(200);
  const cancelled = await decidedAs(opened.number, 'cancelled');
  expect(cancelled.next_starts_on).toBeNull();
  expect(cancelled.comment).toContain(`has no term ending ${year}-12-31 any more`);
  expect(await db('contract_terms').where({ contract_id: contract.id })).toHaveLength(1);
});

it('never approves by itself: with nobody to ask, planning fails to be retried (and then waits for attention), writing nothing', async () => {
  const contract = await contractInNotice();
  const [renewal] = await db('contract_renewals').insert({ contract_id: contract.id, title: 'Nobody to ask', requested_by_id: owner.id }).returning(['id', 'number']);
  const key = `renewal:${renewal.number}:plan:0`;
  // In a transaction rolled back after: the renewal rules switched off for this test only.
  const trx = await db.transaction();
  let failure: unknown;
  try {
    await trx('approval_rules').where({ process: 'renewal' }).update({ active: false });
    failure = await createRenewalDecisionActivities({ db: trx }).planRenewalApprovals({ idempotencyKey: key, workflowId: `renewal:${renewal.number}`, renewalId: renewal.id })
      .then(() => undefined, (e: unknown) => e);
  } finally {
    await trx.rollback();
  }
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: 'NobodyToAsk', nonRetryable: false });
  expect((failure as ApplicationFailure).message).toContain('no active approval rule of process renewal applies');
  expect(await db('audit_log').where({ idempotency_key: key }).first()).toBeUndefined();
});

it('is indexed as a process renewal, finished exactly in the final states domain/ names', async () => {
  const workflowIds: string[] = [];
  for (const state of RENEWAL_STATES) {
    const contract = await contractInNotice();
    const workflowId = `renewal:VOCAB${unique()}`;
    const nextTerm = state === 'renew' ? { next_starts_on: '2099-01-01', next_ends_on: '2099-12-31', next_value_minor: 1 } : {};
    await db('contract_renewals').insert({ contract_id: contract.id, title: `In ${state}`, state, workflow_id: workflowId, ...nextTerm });
    workflowIds.push(workflowId);
  }
  const indexed = await db('processes').whereIn('workflow_id', workflowIds).select('process', 'state', 'finished_at');
  expect(indexed.map((p) => p.process)).toEqual(RENEWAL_STATES.map(() => 'renewal'));
  expect(indexed.filter((p) => p.finished_at !== null).map((p) => p.state).sort()).toEqual([...FINAL_STATES.renewal].sort());
});

it('answers 404 for a contract or decision that does not exist', async () => {
  expect((await send(stack, owner.apiKey, 'POST', '/contracts/CNTR9999999/renewal-decision')).status).toBe(404);
  expect((await call(stack, owner.apiKey, 'GET', '/renewal-decisions/RNW9999999')).status).toBe(404);
  expect((await send(stack, finance.apiKey, 'POST', '/contracts/CNTR9999999/renewal-decision')).status).toBe(403);
});
