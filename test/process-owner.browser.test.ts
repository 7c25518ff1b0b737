/**
 * A process owner as a person, in headless Chromium: opens a waiting change's process page, sends
 * the approver a reminder, then reassigns the approval to a colleague with a reason, reading the
 * outcome of each on the page. Screenshots are kept in test-artifacts/.
 */
import type { Browser } from 'playwright-core';
import { artifactPath, launchBrowser } from './support/browser';
import { createApprovalRule, createCi, createPerson, eventually } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  await createApprovalRule(stack.database.db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

it('reminds the approver and reassigns the approval from the process page', async () => {
  const db = stack.database.db;
  const owner = await createPerson(db, ['process_owner'], 'Orla Owner');
  const manager = await createPerson(db, ['approver'], 'Milo Manager');
  const colleague = await createPerson(db, ['approver'], 'Cora Colleague');
  const requester = await createPerson(db, ['requester'], 'Remy Requester', { managerId: manager.id });
  const ci = await createCi(db, { name: `srv-owner-${Date.now()}`, ciClass: 'server' });
  const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Replace the core switch', affectedCiIds: [ci.id] });
  await stack.sink.waitFor((m) => m.to.includes(manager.email) && m.subject.startsWith('Approval needed') && m.subject.includes(change.number));

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${stack.baseUrl}/ui/processes/${encodeURIComponent(change.workflowId)}`);
  await page.getByLabel('API key').fill(owner.apiKey);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { level: 2, name: 'Process owner actions' }).waitFor();

  await page.getByRole('button', { name: 'Send a reminder' }).click();
  const reminded = page.getByRole('status').filter({ hasText: 'A reminder was sent to 1 approver.' });
  await reminded.waitFor();
  await stack.sink.waitFor((m) => m.to.includes(manager.email) && m.subject.startsWith('Reminder: approval needed'));
  await page.screenshot({ path: artifactPath('process-owner-reminded.png'), fullPage: true });

  await page.getByLabel('Reassign to').fill(colleague.email);
  await page.getByLabel('Reason').fill('Milo is at the data centre all week');
  await page.getByRole('button', { name: 'Reassign' }).click();
  await page.getByRole('status').filter({ hasText: `The approval moved from ${manager.name} to ${colleague.name}` }).waitFor();
  await page.screenshot({ path: artifactPath('process-owner-reassigned.png'), fullPage: true });
  expect(await page.textContent('#approvals')).toContain(`moved to ${colleague.name}`);
  expect(await page.textContent('#waiting-for')).toContain(colleague.name);
  await page.close();

  await stack.sink.waitFor((m) => m.to.includes(colleague.email) && m.subject.startsWith('Approval needed') && m.subject.includes(change.number));
  await eventually(async () => (await db('audit_log').where({ workflow_id: change.workflowId, action: 'approval_reassigned', actor: owner.email })).length === 1);
});
