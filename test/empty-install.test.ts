/**
 * A real organisation's first hour, from an empty database and with no demo data at any point:
 * the bootstrap command creates the first administrator, who creates a group and people through
 * the API and gives them roles; one of them submits a change, and another approves it through the
 * link in the email the change sends.
 *
 * The configuration item and the approval rule are written as rows: their editing through the API
 * is the master-data issue's (14). Everything about people goes through the product.
 */
import { runAdminCommand } from '../scripts/admin';
import { createApprovalRule, createCi, eventually } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

const linkIn = (text: string) => {
  const match = /(https?:\/\/\S+\/approvals\/[0-9a-f-]+\?token=\S+)/.exec(text);
  if (!match) throw new Error('no approval link in the email');
  return new URL(match[1]);
};

it('bootstraps an admin on an empty database, who sets up people and groups; a change they submit is approved through the emailed link', async () => {
  const db = stack.database.db;
  expect(Number((await db('people').count({ n: '*' }))[0].n)).toBe(0);

  // 1. The first administrator, from the command line; the key is printed once.
  const printed: string[] = [];
  const exitCode = await runAdminCommand(['create-admin', '--email', 'ada.admin@example.org', '--name', 'Ada Admin'], { db, out: (line) => printed.push(line) });
  expect(exitCode).toBe(0);
  const adminKey = printed.join('\n').match(/\baf_[A-Za-z0-9_-]{20,}/)?.[0];
  expect(adminKey).toBeDefined();
  expect(printed.join('\n').split(adminKey!).length - 1).toBe(1);
  const me = await call(stack, adminKey, 'GET', '/people?q=ada.admin');
  expect(me.status).toBe(200);
  expect(me.body.items).toEqual([expect.objectContaining({ email: 'ada.admin@example.org', roles: expect.arrayContaining(['admin']) })]);

  // 2. A group and two people through the API, with their roles.
  const cab = await call(stack, adminKey, 'POST', '/groups', { name: 'Change Advisory Board', description: 'Approves normal changes' });
  expect(cab.status).toBe(201);
  const carol = await call(stack, adminKey, 'POST', '/people', {
    email: 'carol.cab@example.org', name: 'Carol Cab', title: 'Infrastructure lead', groups: ['change advisory board'], roles: ['approver'],
  });
  expect(carol.status).toBe(201);
  expect(carol.body).toMatchObject({ roles: ['approver'], groups: [{ id: cab.body.id, name: 'Change Advisory Board' }] });
  const rahul = await call(stack, adminKey, 'POST', '/people', {
    email: 'rahul.requester@example.org', name: 'Rahul Requester', managerEmail: 'carol.cab@example.org', roles: ['requester'],
  });
  expect(rahul.status).toBe(201);
  expect(rahul.body.manager).toMatchObject({ email: 'carol.cab@example.org' });

  // Rahul would sign in through single sign-on and make his own key at /ui/api-keys; here the operator's command gives him one.
  const rahulPrinted: string[] = [];
  expect(await runAdminCommand(['create-api-key', '--email', 'rahul.requester@example.org', '--name', 'laptop'], { db, out: (line) => rahulPrinted.push(line) })).toBe(0);
  const rahulKey = rahulPrinted.join('\n').match(/\baf_[A-Za-z0-9_-]{20,}/)![0];

  // 3. The organisation's own rule: normal changes go to its CAB.
  await createApprovalRule(db, { stepOrder: 1, name: 'CAB', approverKind: 'group', groupId: cab.body.id });
  const ci = await createCi(db, { name: 'srv-payroll-01' });

  // 4. Rahul submits a change; Carol approves it from her email, without signing in.
  const submitted = await call(stack, rahulKey, 'POST', '/changes', {
    type: 'normal', title: 'Patch the payroll server', description: 'Monthly OS patches.', affectedCiIds: [ci.id],
  });
  expect(submitted.status).toBe(201);
  const task = await stack.sink.waitFor((m) => m.to.includes('carol.cab@example.org') && m.subject.includes(submitted.body.number));
  const link = linkIn(task.text);
  const decided = await fetch(`${link.origin}${link.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: link.searchParams.get('token')!, decision: 'approved', comment: 'Go ahead' }).toString(),
  });
  expect(decided.status).toBe(200);

  const approved = await eventually(async () => {
    const change = await call(stack, rahulKey, 'GET', `/changes/${submitted.body.number}`);
    return change.body.state === 'implement' || change.body.state === 'scheduled' ? change.body : undefined;
  });
  expect(approved.approvals).toEqual([expect.objectContaining({ approver: expect.objectContaining({ email: 'carol.cab@example.org' }), state: 'approved' })]);
  await stack.sink.waitFor((m) => m.to.includes('rahul.requester@example.org') && m.subject.startsWith(`Approved: ${submitted.body.number}`));

  // Every write about people is in the audit log with its actor.
  const audit = await db('audit_log').whereIn('subject_type', ['person', 'group', 'api_key']).orderBy('id').select('actor', 'action', 'subject_type');
  expect(audit).toEqual(expect.arrayContaining([
    expect.objectContaining({ actor: 'system:admin-cli', subject_type: 'person' }),
    expect.objectContaining({ actor: 'ada.admin@example.org', action: 'group_created' }),
    expect.objectContaining({ actor: 'ada.admin@example.org', action: 'person_created' }),
    expect.objectContaining({ actor: 'system:admin-cli', subject_type: 'api_key' }),
  ]));
  expect(await db('approvals').where({ subject_id: submitted.body.id, decided_via: 'link', state: 'approved' }).count({ n: '*' })).toEqual([{ n: 1 }]);
});
