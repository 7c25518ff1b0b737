/**
 * The change pages over plain HTTP with a web session: the new change form (CI search by service,
 * validation next to the fields, the preview that writes nothing and says what the workflow then
 * stores), submitting, the change's page with its actions (revise, cancel, implementation) and
 * their refusals shown next to the action.
 */
import { randomUUID } from 'node:crypto';
import { createApprovalRule, createAsset, createCi, createCostCentre, createPerson, eventually, relate, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent, type WebAgent } from './support/web-agent';

let stack: Stack;
let manager: TestPerson;
let requester: TestPerson;
let implementer: TestPerson;
let outsider: TestPerson;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  manager = await createPerson(db, ['approver'], 'Mira Manager');
  requester = await createPerson(db, ['requester'], 'Rita Requester', { managerId: manager.id });
  implementer = await createPerson(db, ['asset_manager'], 'Ivo Implementer', { managerId: manager.id });
  outsider = await createPerson(db, ['requester'], 'Otis Outsider');
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
});

afterAll(async () => {
  await stack?.stop();
});

interface Session {
  agent: WebAgent;
  csrf: string;
}

async function signIn(person: TestPerson): Promise<Session> {
  const agent = webAgent(stack.baseUrl);
  expect((await signInWithKey(agent, person.apiKey)).status).toBe(303);
  return { agent, csrf: hiddenCsrf((await browse(agent, 'GET', '/ui/requests/new')).html)! };
}

/** Posts a form whose fields may repeat (chosen CIs, ticked checkboxes), as a browser does. */
async function post(session: Session, path: string, fields: [string, string][]) {
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: [...session.agent.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams([['csrf', session.csrf], ...fields]).toString(),
  });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

/** A business service depending on an application running on a server, each named uniquely. */
async function serviceChain() {
  const db = stack.database.db;
  const tag = randomUUID().slice(0, 8);
  const service = await createCi(db, { name: `Payroll ${tag}`, ciClass: 'business_service', criticality: 'tier_1' });
  const app = await createCi(db, { name: `payroll-app-${tag}`, ciClass: 'application' });
  const server = await createCi(db, { name: `payroll-db-host-${tag}`, ciClass: 'server' });
  const elsewhere = await createCi(db, { name: `unrelated-host-${tag}`, ciClass: 'server' });
  await relate(db, service.id, 'depends_on', app.id);
  await relate(db, app.id, 'depends_on', server.id);
  return { tag, service, app, server, elsewhere };
}

const changeCount = async () => Number((await stack.database.db('change_requests').count({ n: '*' }))[0].n);
/**
 * Audit rows a preview would leave if it wrote anything: by the requester about this change (its
 * own workflow goes on writing rows of its own, approvals opened, while the test runs), or (for a
 * new one) by its requester or about a change that does not exist. Not every row: the workflows of
 * the changes earlier tests submitted go on writing theirs meanwhile.
 */
const auditCount = async (changeId?: string) => {
  const db = stack.database.db;
  const rows = changeId
    ? db('audit_log').where({ subject_id: changeId, actor: requester.email })
    : db('audit_log').where((w) => w.where({ actor: requester.email })
      .orWhere((o) => o.where({ subject_type: 'change_request' }).whereNotIn('subject_id', db('change_requests').select('id'))));
  return Number((await rows.count({ n: '*' }))[0].n);
};
const lastNumber = async () => (await stack.database.db.raw('SELECT last_value FROM change_number_seq')).rows[0].last_value as string;

/** The text of an element by id, tags stripped. */
const textOf = (page: string, id: string) => {
  const m = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(?:p|dd|span|ul|h3)>`).exec(page);
  return m ? m[1].replace(/<[^>]+>/g, '').trim() : undefined;
};

async function waitForState(number: string, state: string) {
  return eventually(async () => (await stack.database.db('change_requests').where({ number }).first())?.state === state);
}

it('offers a change or a purchase on the New request page', async () => {
  const s = await signIn(requester);
  const page = await browse(s.agent, 'GET', '/ui/requests/new');
  expect(page.status).toBe(200);
  expect(page.html).toContain('href="/ui/changes/new"');
  expect(page.html).toContain('href="/ui/purchases/new"');
  expect(page.html).toContain('aria-current="page"');
});

it('finds the CIs behind a business service, keeps the chosen ones across submits and removes one', async () => {
  const chain = await serviceChain();
  const s = await signIn(requester);
  const found = await post(s, '/ui/changes/new', [['op', 'search'], ['service', chain.service.id], ['title', 'Patch payroll']]);
  expect(found.status).toBe(200);
  for (const ci of [chain.service, chain.app, chain.server]) expect(found.html).toContain(`value="${ci.id}"`);
  expect(found.html).not.toContain(chain.elsewhere.id);
  expect(found.html).toContain('value="Patch payroll"');

  const added = await post(s, '/ui/changes/new', [['op', 'add'], ['add', chain.app.id], ['add', chain.server.id], ['q', chain.tag]]);
  expect(added.html).toMatch(new RegExp(`<input type="hidden" name="ci" value="${chain.app.id}">`));
  expect(added.html).toMatch(new RegExp(`<input type="hidden" name="ci" value="${chain.server.id}">`));

  const byName = await post(s, '/ui/changes/new', [['op', 'search'], ['q', `unrelated-host-${chain.tag}`], ['ciClass', 'server'], ['ci', chain.app.id]]);
  expect(byName.html).toContain(`value="${chain.elsewhere.id}"`);
  expect(byName.html).toContain(`name="ci" value="${chain.app.id}"`);

  const removed = await post(s, '/ui/changes/new', [['remove', chain.app.id], ['ci', chain.app.id], ['ci', chain.server.id]]);
  expect(removed.status).toBe(200);
  expect(removed.html).not.toContain(`name="ci" value="${chain.app.id}"`);
  expect(removed.html).toContain(`name="ci" value="${chain.server.id}"`);
});

it('shows each problem next to its field and in the summary, and writes nothing', async () => {
  const s = await signIn(requester);
  const before = await changeCount();
  const page = await post(s, '/ui/changes/new', [
    ['op', 'submit'], ['type', 'normal'], ['title', 'x'], ['oneOffCost', '12.345'], ['windowStart', '2026-12-24T10:00'], ['assetTag0', 'NO-SUCH-TAG'], ['assetToState0', 'retired'],
  ]);
  expect(page.status).toBe(400);
  expect(page.html).toContain('role="alert"');
  expect(page.html).toMatch(/id="f-title-error"[^>]*>at least 3 characters/);
  expect(page.html).toMatch(/id="f-cis-error"[^>]*>/);
  expect(page.html).toMatch(/id="f-oneOffCost-error"[^>]*>give an amount in EUR/);
  expect(page.html).toMatch(/id="f-windowEnd-error"[^>]*>give both plannedStart and plannedEnd, or neither/);
  expect(page.html).toMatch(/id="f-asset0-error"[^>]*>no asset NO-SUCH-TAG/);
  expect(page.html).toContain('aria-describedby="f-title-hint f-title-error"');
  expect(page.html).toContain('<a href="#f-cis">Configuration items</a>');
  expect(await changeCount()).toBe(before);
});

it('shows a problem of a declared row next to the row it was typed in, empty rows skipped', async () => {
  const chain = await serviceChain();
  const asset = await createAsset(stack.database.db, { state: 'in_use', assignedToId: requester.id });
  const s = await signIn(requester);
  const page = await post(s, '/ui/changes/new', [
    ['op', 'preview'], ['type', 'normal'], ['title', 'Swap the laptop twice'], ['ci', chain.server.id],
    ['assetTag1', asset.assetTag], ['assetToState1', 'in_stock'], ['assetTag2', asset.assetTag], ['assetToState2', 'in_stock'], ['assetTag3', ''],
  ]);
  expect(page.status).toBe(400);
  expect(page.html).toMatch(new RegExp(`id="f-asset2-error"[^>]*>${asset.id} is named more than once`));
  expect(page.html).not.toContain('id="f-asset1-error"');
  // The form keeps every row it was sent, one more than it offers at first.
  expect(page.html).toContain('id="f-assetTag3"');
});

it('previews the impact and risk without writing anything, submits once, and the workflow then stores the same', async () => {
  const db = stack.database.db;
  const chain = await serviceChain();
  await createCostCentre(db, `CC-${chain.tag}`, 'Payroll team', 1_000_000);
  const asset = await createAsset(db, { state: 'in_use', assignedToId: requester.id });
  const s = await signIn(requester);
  const fields: [string, string][] = [
    ['type', 'normal'], ['title', 'Move payroll to the new database host'], ['description', 'Nightly run moves.'],
    ['costCentre', `CC-${chain.tag}`], ['ci', chain.server.id], ['windowStart', '2027-01-12T22:00'], ['windowEnd', '2027-01-13T01:30'],
    ['assetTag0', asset.assetTag], ['assetToState0', 'in_stock'], ['assetToSubstate0', 'available'],
    ['oneOffCost', '12,500.00'], ['recurringCost', '80'], ['submissionKey', randomUUID()],
  ];
  const [changes, audit, number] = [await changeCount(), await auditCount(), await lastNumber()];
  const preview = await post(s, '/ui/changes/new', [['op', 'preview'], ...fields]);
  expect(preview.status).toBe(200);
  expect([await changeCount(), await auditCount(), await lastNumber()]).toEqual([changes, audit, number]);
  expect(preview.html).toContain('Preview: what the assessment would say');
  expect(preview.html).toContain(`Payroll ${chain.tag}`);
  expect(preview.html).toContain('Mira Manager');
  expect(preview.html).toContain('EUR 12,500.00 one-off, EUR 80.00 recurring');
  // The window as typed, read in the viewer's zone (UTC here), and shown back the same.
  expect(preview.html).toContain('value="2027-01-12T22:00"');
  expect(preview.html).toContain('<time datetime="2027-01-12T22:00:00.000Z">');
  const level = textOf(preview.html, 'preview-risk-level');
  expect(level).toBeTruthy();

  const submitted = await post(s, '/ui/changes/new', [['op', 'submit'], ...fields]);
  expect(submitted.status).toBe(303);
  expect(submitted.location).toMatch(/^\/ui\/changes\/CHG\d{7}$/);
  const changeNumber = submitted.location!.split('/').pop()!;
  // The same form sent again (a double click, a retry) is the same change.
  expect(await post(s, '/ui/changes/new', [['op', 'submit'], ...fields])).toMatchObject({ status: 303, location: submitted.location });
  expect(await changeCount()).toBe(changes + 1);
  const stored = await eventually(async () => {
    const row = await db('change_requests').where({ number: changeNumber }).first();
    return row?.impact ? row : undefined;
  });
  expect(stored.planned_start.toISOString()).toBe('2027-01-12T22:00:00.000Z');
  expect([stored.one_off_cost_minor, stored.recurring_cost_minor]).toEqual([1_250_000, 8_000]);
  expect(level).toBe(stored.risk_level.replace(/_/g, ' '));
  const reasons = [...preview.html.matchAll(/<ul class="reasons">([\s\S]*?)<\/ul>/g)][0][1];
  for (const reason of stored.impact.risk.reasons as { text: string }[]) expect(reasons).toContain(reason.text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'));
  expect(preview.html).toContain(`(score ${stored.risk_score})`);

  const page = await browse(s.agent, 'GET', submitted.location!);
  expect(page.status).toBe(200);
  expect(page.html).toContain(`${changeNumber}: Move payroll to the new database host`);
  expect(page.html).toContain(`href="/ui/cis/${chain.server.id}"`);
  expect(page.html).toContain(`href="/ui/assets/${asset.assetTag}"`);
  expect(page.html).toContain(`href="/ui/changes/${changeNumber}/impact-map"`);
  expect(page.html).toContain('id="approvals-heading"');
  expect(page.html).toContain('id="timeline"');
  expect(page.html).toContain(`(score ${stored.risk_score})`);

  const other = await signIn(outsider);
  expect((await browse(other.agent, 'GET', submitted.location!)).status).toBe(403);
});

it('a new change form sent again with other values says the first was submitted, links it, and offers a new request', async () => {
  const chain = await serviceChain();
  const s = await signIn(requester);
  const key = randomUUID();
  const first = await post(s, '/ui/changes/new', [['op', 'submit'], ['type', 'normal'], ['title', `First ${chain.tag}`], ['ci', chain.server.id], ['submissionKey', key]]);
  expect(first.status).toBe(303);
  const number = first.location!.split('/').pop()!;
  const changes = await changeCount();
  const second = await post(s, '/ui/changes/new', [['op', 'submit'], ['type', 'normal'], ['title', `Second ${chain.tag}`], ['ci', chain.server.id], ['submissionKey', key]]);
  expect(second.status).toBe(422);
  expect(second.html).toContain(`already submitted, with other values, as ${number}`);
  expect(second.html).toContain(`href="/ui/changes/${number}"`);
  expect(second.html).not.toContain('Idempotency-Key');
  const fresh = /name="submissionKey" value="([0-9a-f-]{36})"/.exec(second.html)![1];
  expect(fresh).not.toBe(key);
  expect(await changeCount()).toBe(changes);
  const third = await post(s, '/ui/changes/new', [['op', 'submit'], ['type', 'normal'], ['title', `Second ${chain.tag}`], ['ci', chain.server.id], ['submissionKey', fresh]]);
  expect(third.status).toBe(303);
  expect(third.location).not.toBe(first.location);
});

it('the preview equals what the workflow stores, impact and risk alike', async () => {
  const db = stack.database.db;
  const chain = await serviceChain();
  const { previewChange } = await import('../model/change-preview');
  const submission = {
    changeModelId: null, title: 'Same input', description: '', costCentreId: null, currency: 'EUR',
    affectedCiIds: [chain.app.id], assetActions: [], licenceChanges: [], plannedStart: null, plannedEnd: null, oneOffCostMinor: 5_000, recurringCostMinor: 0,
  };
  const preview = await previewChange(db, { type: 'normal', requesterId: requester.id, submission });
  const { status, body } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Same input', affectedCiIds: [chain.app.id], oneOffCostMinor: 5_000 });
  expect(status).toBe(201);
  const stored = await eventually(async () => (await db('change_requests').where({ id: body.id }).first())?.impact);
  const { risk, assessedAt: _stored, ...storedImpact } = stored;
  const { assessedAt: _previewed, ...previewImpact } = preview.impact;
  expect(risk).toEqual(preview.risk);
  expect(storedImpact).toEqual(previewImpact);
  expect(preview.approvalSteps.map((step) => step.approvers.map((a) => a.name))).toEqual([['Mira Manager']]);
});

it('revises the scope with the same form (prefilled), then cancels with a reason', async () => {
  const chain = await serviceChain();
  const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', {
    type: 'normal', title: 'Resize the payroll database', affectedCiIds: [chain.server.id], plannedStart: '2027-02-01T20:00:00Z', plannedEnd: '2027-02-01T23:00:00Z',
  });
  await waitForState(change.number, 'authorize');
  const s = await signIn(requester);
  const form = await browse(s.agent, 'GET', `/ui/changes/${change.number}?revise=1`);
  expect(form.status).toBe(200);
  expect(form.html).toContain('id="revise-form"');
  expect(form.html).toContain('value="Resize the payroll database"');
  expect(form.html).toContain(`name="ci" value="${chain.server.id}"`);
  expect(form.html).toContain('value="2027-02-01T20:00"');

  // The preview of a revision assesses the change's own row, revised: it is not its own conflict, and nothing is written.
  const audit = await auditCount(change.id);
  const previewed = await post(s, `/ui/changes/${change.number}/revise`, [
    ['op', 'preview'], ['title', 'Resize the payroll database'], ['ci', chain.server.id], ['ci', chain.app.id], ['windowStart', '2027-02-01T20:00'], ['windowEnd', '2027-02-02T01:00'],
  ]);
  expect(previewed.status).toBe(200);
  expect(previewed.html).toContain('Preview: what the assessment would say');
  expect(previewed.html).not.toContain(`overlaps <a href="/ui/changes/${change.number}"`);
  expect(previewed.html).toContain('<time datetime="2027-02-02T01:00:00.000Z">');
  const unchanged = await stack.database.db('change_requests').where({ number: change.number }).first();
  expect([unchanged.revision, unchanged.planned_end.toISOString(), await auditCount(change.id)]).toEqual([0, '2027-02-01T23:00:00.000Z', audit]);

  const bad = await post(s, `/ui/changes/${change.number}/revise`, [['op', 'submit'], ['title', 'Resize the payroll database']]);
  expect(bad.status).toBe(400);
  expect(bad.html).toMatch(/id="f-cis-error"/);

  // The form's key rides in it: the same form sent twice (a double click) is one revision, answered alike.
  const revisionForm: [string, string][] = [['op', 'submit'], ['title', 'Resize the payroll database and its app'], ['ci', chain.server.id], ['ci', chain.app.id], ['submissionKey', randomUUID()]];
  const [revised, again] = await Promise.all([post(s, `/ui/changes/${change.number}/revise`, revisionForm), post(s, `/ui/changes/${change.number}/revise`, revisionForm)]);
  expect(revised).toMatchObject({ status: 303, location: `/ui/changes/${change.number}?done=revised` });
  expect(again).toMatchObject({ status: 303, location: revised.location });
  await eventually(async () => (await stack.database.db('change_requests').where({ number: change.number }).first())?.revision === 1);
  const scopeRevisions = () => stack.database.db('audit_log').where({ subject_id: change.id, action: 'scope_revised' }).count({ n: '*' }).then((r) => Number(r[0].n));
  expect(await scopeRevisions()).toBe(1);
  expect(await post(s, `/ui/changes/${change.number}/revise`, revisionForm)).toMatchObject({ status: 303 });
  expect(await scopeRevisions()).toBe(1);
  // The same key with other values is not the same form: it says so and offers a new key.
  const reused = await post(s, `/ui/changes/${change.number}/revise`, [...revisionForm.filter(([k]) => k !== 'title'), ['title', 'Something else']]);
  expect(reused.status).toBe(422);
  expect(reused.html).toContain('already saved with other values');
  expect(reused.html).not.toContain('Idempotency-Key');
  expect(reused.html).not.toContain(`value="${revisionForm[4][1]}"`);

  // A viewer who may not revise gets no search or preview run for the form.
  const approverSession = await signIn(manager);
  const notTheirs = await post(approverSession, `/ui/changes/${change.number}/revise`, [['op', 'search'], ['q', chain.tag]]);
  expect(notTheirs.status).toBe(403);
  expect(notTheirs.html).not.toContain('id="ci-results"');

  const noReason = await post(s, `/ui/changes/${change.number}/cancel`, [['reason', ' ']]);
  expect(noReason.status).toBe(400);
  expect(noReason.html).toMatch(/id="cancel-error"[^>]*>Nothing was changed/);
  expect(noReason.html).toMatch(/<input type="hidden" name="requestKey" value="[0-9a-f-]{36}">/);
  const cancelKey = randomUUID();
  const [cancelled, cancelledAgain] = await Promise.all([
    post(s, `/ui/changes/${change.number}/cancel`, [['reason', 'moved to next quarter'], ['requestKey', cancelKey]]),
    post(s, `/ui/changes/${change.number}/cancel`, [['reason', 'moved to next quarter'], ['requestKey', cancelKey]]),
  ]);
  expect([cancelled.status, cancelledAgain.status]).toEqual([303, 303]);
  await waitForState(change.number, 'closed');
  const page = await browse(s.agent, 'GET', `/ui/changes/${change.number}`);
  expect(textOf(page.html, 'change-state')).toBe('closed (cancelled)');
  expect(page.html).not.toContain('Cancel the change</button>');
});

it('shows implementation refusals next to the action: out of order (409), the requester (403), other roles (403)', async () => {
  const chain = await serviceChain();
  const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Replace the payroll host', affectedCiIds: [chain.server.id] });
  await waitForState(change.number, 'authorize');
  const impl = await signIn(implementer);
  const early = await post(impl, `/ui/changes/${change.number}/implementation`, [['event', 'started'], ['notes', 'starting now']]);
  expect(early.status).toBe(409);
  expect(early.html).toMatch(/id="implementation-error"[^>]*>Nothing was changed: /);
  expect((await stack.database.db('change_requests').where({ number: change.number }).first()).implementation).toBeNull();

  const notRole = await post(await signIn(requester), `/ui/changes/${change.number}/implementation`, [['event', 'started'], ['notes', 'x']]);
  expect(notRole.status).toBe(403);

  // The implementer's own change: segregation of duties refuses before the workflow is asked.
  const { body: own } = await call(stack, implementer.apiKey, 'POST', '/changes', { type: 'normal', title: 'My own host swap', affectedCiIds: [chain.app.id] });
  await waitForState(own.number, 'authorize');
  const sod = await post(impl, `/ui/changes/${own.number}/implementation`, [['event', 'started'], ['notes', 'x']]);
  expect(sod.status).toBe(403);
  expect(sod.html).toMatch(/id="implementation-error"/);

  // Approved from the page, then started and completed from it.
  await eventually(async () => stack.database.db('approvals').where({ subject_id: change.id, approver_id: manager.id }).first('id'));
  const approver = await signIn(manager);
  const approvalPage = await browse(approver.agent, 'GET', `/ui/changes/${change.number}`);
  const action = /action="(\/ui\/changes\/[^"]+\/approvals\/[0-9a-f-]+)"/.exec(approvalPage.html)![1];
  expect(await post(approver, action, [['decision', 'approved'], ['comment', 'fine']])).toMatchObject({ status: 303 });
  await waitForState(change.number, 'implement');
  const pageBefore = await browse(impl.agent, 'GET', `/ui/changes/${change.number}`);
  expect(pageBefore.html).toContain('Record implementation started');
  expect((await post(impl, `/ui/changes/${change.number}/implementation`, [['event', 'started'], ['notes', 'host racked']])).status).toBe(303);
  const failedNoBackout = await post(impl, `/ui/changes/${change.number}/implementation`, [['event', 'failed'], ['notes', 'did not boot']]);
  expect(failedNoBackout.status).toBe(400);
  expect(failedNoBackout.html).toMatch(/id="implementation-error"[^>]*>Nothing was changed: backout: say how the change was backed out/);
  expect((await post(impl, `/ui/changes/${change.number}/implementation`, [['event', 'completed'], ['notes', 'all green'], ['withIssues', 'yes']])).status).toBe(303);
  await waitForState(change.number, 'closed');
  const closed = await browse(impl.agent, 'GET', `/ui/changes/${change.number}`);
  expect(textOf(closed.html, 'change-state')).toBe('closed (successful with issues)');
});

it('records a failed implementation with its backout, then the post-implementation review, and the change closes unsuccessful', async () => {
  const chain = await serviceChain();
  const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Upgrade the payroll host firmware', affectedCiIds: [chain.server.id] });
  await waitForState(change.number, 'authorize');
  const approval: { id: string } = await eventually(async () => stack.database.db('approvals').where({ subject_id: change.id, approver_id: manager.id }).first('id'));
  const approver = await signIn(manager);
  expect((await post(approver, `/ui/changes/${change.number}/approvals/${approval.id}`, [['decision', 'approved']])).status).toBe(303);
  await waitForState(change.number, 'implement');

  const impl = await signIn(implementer);
  const notYet = await post(impl, `/ui/changes/${change.number}/review`, [['notes', 'too early']]);
  expect(notYet.status).toBe(409);
  expect(notYet.html).toMatch(/id="review-error"[^>]*>Nothing was changed: /);
  expect((await post(impl, `/ui/changes/${change.number}/implementation`, [['event', 'started'], ['notes', 'flashing']])).status).toBe(303);
  expect((await post(impl, `/ui/changes/${change.number}/implementation`, [['event', 'failed'], ['notes', 'did not boot'], ['backout', 'flashed the old image']])).status).toBe(303);
  await waitForState(change.number, 'review');
  const page = await browse(impl.agent, 'GET', `/ui/changes/${change.number}`);
  expect(page.html).toContain('Record the review');
  expect((await post(impl, `/ui/changes/${change.number}/review`, [['notes', 'vendor image was faulty; retry next month']])).status).toBe(303);
  await waitForState(change.number, 'closed');
  const closed = await browse(impl.agent, 'GET', `/ui/changes/${change.number}`);
  expect(textOf(closed.html, 'change-state')).toBe('closed (unsuccessful)');
  expect(closed.html).not.toContain('Record the review');
});
