/**
 * An approver as a person: opens the emailed link in headless Chromium, reads the change and its
 * impact, approves with a comment and sees the result.
 */
import type { Browser } from 'playwright-core';
import { artifactPath, launchBrowser } from './support/browser';
import { createApprovalRule, createCi, createPerson, eventually, relate } from './support/fixtures';
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

it('approves a change from the emailed link with a comment and shows the result', async () => {
  const db = stack.database.db;
  const manager = await createPerson(db, ['approver'], 'Bea Browser');
  const requester = await createPerson(db, ['requester'], 'Ron Requester', { managerId: manager.id });
  const server = await createCi(db, { name: 'srv-web-07', ciClass: 'server' });
  const service = await createCi(db, { name: 'Customer Portal', ciClass: 'business_service', criticality: 'tier_2' });
  await relate(db, service.id, 'depends_on', server.id);
  const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', {
    type: 'normal', title: 'Resize the portal web server', description: 'Two more vCPUs for the sale.', affectedCiIds: [server.id], oneOffCostMinor: 120_000,
  });
  const task = await stack.sink.waitFor((m) => m.to.includes(manager.email) && m.subject.includes(change.number));
  const link = /(http:\/\/\S+\/approvals\/\S+)/.exec(task.text)![1];

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(link);
  await page.getByRole('heading', { level: 1 }).filter({ hasText: change.number }).waitFor();
  expect(await page.textContent('body')).toContain('Customer Portal (tier 2)');
  await page.getByLabel('Comment').fill('Approved for the sale weekend');
  await page.screenshot({ path: artifactPath('change-approval-before.png'), fullPage: true });
  await page.getByRole('button', { name: 'Approve' }).click();

  const status = page.getByRole('status').first();
  await status.waitFor();
  expect(await status.textContent()).toContain('you approved this request');
  await page.screenshot({ path: artifactPath('change-approval-after.png'), fullPage: true });
  expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
  expect(await page.textContent('table')).toContain('Approved for the sale weekend');
  await page.close();

  const approval = await db('approvals').where({ subject_id: change.id }).first();
  expect(approval).toMatchObject({ state: 'approved', comment: 'Approved for the sale weekend', decided_via: 'link' });
  await eventually(async () => (await db('change_requests').where({ id: change.id }).first('state')).state === 'implement');
  await call(stack, requester.apiKey, 'POST', `/changes/${change.number}/cancel`, { reason: 'test done' });
});
