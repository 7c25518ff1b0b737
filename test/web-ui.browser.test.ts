/**
 * The web UI as people use it, in headless Chromium: a process owner finds a waiting change and
 * sees for whom it waits; an approver decides from the inbox. Screenshots land in test-artifacts/.
 */
import type { Browser, Page } from 'playwright-core';
import { insertApiKey } from '../model/api-keys';
import { artifactPath, launchBrowser } from './support/browser';
import { createApprovalRule, createCi, createPerson, eventually, relate } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack({ demoSignIn: true }), launchBrowser()]);
  const db = stack.database.db;
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  await db('sla_targets').insert({ process: 'change', state: 'authorize', target_minutes: 60 });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A change waiting in authorize for the requester's manager, on a server a tier-2 service depends on. */
async function waitingChange(names: { manager: string; requester: string }, title: string) {
  const db = stack.database.db;
  const manager = await createPerson(db, ['approver'], names.manager);
  const requester = await createPerson(db, ['requester'], names.requester, { managerId: manager.id });
  const server = await createCi(db, { name: `srv-${names.manager.split(' ')[0].toLowerCase()}-01`, ciClass: 'server' });
  const service = await createCi(db, { name: `${names.manager.split(' ')[0]} Portal`, ciClass: 'business_service', criticality: 'tier_2' });
  await relate(db, service.id, 'depends_on', server.id);
  const { body: change } = await call(stack, requester.apiKey, 'POST', '/changes', {
    type: 'normal', title, description: 'Two more vCPUs for the sale.', affectedCiIds: [server.id], oneOffCostMinor: 120_000,
  });
  await eventually(async () => (await db('processes').where({ workflow_id: change.workflowId }).first())?.waiting_for.length === 1);
  await stack.sink.waitFor((m) => m.to.includes(manager.email) && m.subject.includes(change.number));
  return { manager, requester, service, change: change as { id: string; number: string; workflowId: string } };
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  return context.newPage();
}

it('a process owner signs in as a demo person, filters for a change waiting on an approver, and sees for whom it waits', async () => {
  const db = stack.database.db;
  const owner = await createPerson(db, ['process_owner'], 'Paula Process');
  // A person of the embedded demo holds the public key af_demo_<login>.
  await insertApiKey(db, { personId: owner.id, name: 'demo', apiKey: `af_demo_${owner.email.split('@')[0].replace(/\./g, '_')}`, createdBy: 'system:test' });
  const { manager, requester, service, change } = await waitingChange({ manager: 'Wendy Waiting', requester: 'Reza Requester' }, 'Resize the portal web server');
  await waitingChange({ manager: 'Otis Other', requester: 'Olga Other' }, 'Another change waiting on someone else');

  const page = await newPage();
  await page.goto(`${stack.baseUrl}/ui`);
  expect(new URL(page.url()).pathname).toBe('/ui/sign-in');
  await page.getByLabel('Demo person', { exact: true }).selectOption(owner.id);
  await page.getByRole('button', { name: 'Sign in as this person' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  expect(await page.locator('#throughput-chart').getAttribute('role')).toBe('img');
  await page.screenshot({ path: artifactPath('web-ui-dashboard.png'), fullPage: true });

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Processes' }).click();
  await page.getByRole('heading', { level: 1, name: 'Processes' }).waitFor();
  await page.getByLabel('Type', { exact: true }).selectOption('change');
  await page.getByLabel('State', { exact: true }).selectOption('authorize');
  await page.getByLabel('Waiting for', { exact: true }).selectOption({ label: manager.name });
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/waitingFor=/);

  const rows = page.locator('table.processes tbody tr');
  expect(await rows.count()).toBe(1);
  const row = rows.first();
  expect(await row.textContent()).toContain(change.number);
  expect(await row.textContent()).toContain(requester.name);
  expect(await row.textContent()).toContain(manager.name);
  expect(await row.textContent()).toContain('due');
  await page.screenshot({ path: artifactPath('web-ui-processes-filtered.png'), fullPage: true });

  await row.getByRole('link', { name: change.number }).click();
  await page.getByRole('heading', { level: 1 }).filter({ hasText: change.number }).waitFor();
  const waiting = await page.locator('#waiting-for').textContent();
  expect(waiting).toContain(`Waiting for: ${manager.name}`);
  expect(waiting).toMatch(/since \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
  expect(await page.locator('#process-state').textContent()).toContain('authorize');
  expect(await page.getByRole('heading', { name: 'Impact assessment' }).count()).toBe(1);
  expect(await page.textContent('main')).toContain(`${service.name} (tier 2)`);
  expect(await page.locator('#approvals').textContent()).toContain(manager.name);
  const timeline = await page.locator('#timeline tbody').textContent();
  expect(timeline).toContain('approval task');
  expect(timeline).toContain('assessed');
  await page.screenshot({ path: artifactPath('web-ui-process-detail.png'), fullPage: true });
  await page.context().close();
});

it('an approver signs in with their key, approves from the inbox with a comment, and sees the result', async () => {
  const db = stack.database.db;
  const { manager, requester, change } = await waitingChange({ manager: 'Ines Inbox', requester: 'Rob Requester' }, 'Patch the inbox servers');
  const approval = await db('approvals').where({ subject_id: change.id }).first('id');

  const page = await newPage();
  await page.goto(`${stack.baseUrl}/ui/inbox`);
  await page.getByLabel('API key').fill(manager.apiKey);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'My approvals' }).waitFor();
  expect(new URL(page.url()).pathname).toBe('/ui/inbox');

  const item = page.locator(`#approval-${approval.id}`);
  expect(await item.getByRole('heading', { level: 2 }).textContent()).toContain(change.number);
  expect(await item.textContent()).toContain('Ines Portal (tier 2)');
  await item.getByLabel('Comment').fill('Fine for Thursday night');
  await page.screenshot({ path: artifactPath('web-ui-inbox-before.png'), fullPage: true });
  await item.getByRole('button', { name: 'Approve' }).click();

  const status = page.getByRole('status').filter({ hasText: 'You approved' });
  await status.waitFor();
  expect(await status.textContent()).toContain(`You approved ${change.number} with the comment "Fine for Thursday night". The step is approved.`);
  expect(await page.locator(`#approval-${approval.id}`).count()).toBe(0);
  expect(await page.textContent('main')).toContain('Nothing waits for your decision.');
  await page.screenshot({ path: artifactPath('web-ui-inbox-after.png'), fullPage: true });
  await page.context().close();

  expect(await db('approvals').where({ id: approval.id }).first('state', 'comment', 'decided_via')).toEqual({
    state: 'approved', comment: 'Fine for Thursday night', decided_via: 'api',
  });
  await eventually(async () => (await db('change_requests').where({ id: change.id }).first('state')).state === 'implement');
  await call(stack, requester.apiKey, 'POST', `/changes/${change.number}/cancel`, { reason: 'test done' });
});
