/**
 * A change from start to end in headless Chromium, the way people do it: a requester opens New
 * request, searches the CIs behind a business service, picks one, previews the impact and risk
 * and submits; the approver opens the link in the email and approves; an asset manager records
 * the implementation started and completed on the change's page, which then shows it closed.
 * Screenshots land in test-artifacts/.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { accessibilityViolations, blocking, describeViolations, type Violation } from './support/accessibility';
import { artifactPath, launchBrowser } from './support/browser';
import { createApprovalRule, createCi, createPerson, eventually, relate, type TestPerson } from './support/fixtures';
import { startStack, type Stack } from './support/stack';

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

/** What axe-core finds on the pages of the journey, checked at the end. */
const violations: Violation[] = [];

async function checkAccessibility(page: Page) {
  violations.push(...blocking(await accessibilityViolations(page)));
}

async function signedInPage(person: TestPerson): Promise<Page> {
  // bypassCSP lets axe-core run in the pages, whose CSP allows no scripts.
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${stack.baseUrl}/ui/sign-in`);
  await page.getByLabel('API key').fill(person.apiKey);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.pathname !== '/ui/sign-in');
  return page;
}

it('submits a change with the impact preview, approves it from the email, implements it and sees it closed', async () => {
  const db = stack.database.db;
  // Names unique to the run: CI names are unique per class, and the database may outlive a run.
  const tag = randomUUID().slice(0, 8);
  const [serviceName, hostName, title] = [`Journey Ledger ${tag}`, `ledger-host-${tag}`, `Add memory to the ledger host ${tag}`];
  const manager = await createPerson(db, ['approver'], `Joan Journey ${tag}`);
  const requester = await createPerson(db, ['requester'], 'Jay Requester', { managerId: manager.id });
  const implementer = await createPerson(db, ['asset_manager'], 'Ines Implementer');
  const service = await createCi(db, { name: serviceName, ciClass: 'business_service', criticality: 'tier_2' });
  const app = await createCi(db, { name: `ledger-api-${tag}`, ciClass: 'application' });
  const host = await createCi(db, { name: hostName, ciClass: 'server' });
  await relate(db, service.id, 'depends_on', app.id);
  await relate(db, app.id, 'depends_on', host.id);

  // The requester: New request -> change, find the CIs behind the service, pick the host.
  const page = await signedInPage(requester);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New request' }).click();
  await checkAccessibility(page);
  await page.getByRole('link', { name: 'Change something that runs' }).click();
  await page.getByRole('heading', { level: 1, name: 'Submit a change' }).waitFor();
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Description').fill('Two more DIMMs before the month end close.');
  await page.getByLabel('Behind business service').selectOption({ label: `${serviceName} (tier 2)` });
  await page.getByRole('button', { name: 'Search CIs' }).click();
  await page.locator('#ci-results').waitFor();
  await page.getByLabel(hostName).check();
  await page.getByRole('button', { name: 'Add the ticked CIs' }).click();
  await page.locator('#chosen-cis').getByText(hostName).waitFor();
  // The form kept what was typed across the search.
  expect(await page.getByLabel('Title').inputValue()).toBe(title);
  // A window open now (the viewer's zone is UTC here), so the workflow does not wait for it to begin.
  const local = (ms: number) => new Date(ms).toISOString().slice(0, 16);
  await page.getByLabel(/^Planned start/).fill(local(Date.now() - 10 * 60_000));
  await page.getByLabel(/^Planned end/).fill(local(Date.now() + 2 * 3_600_000));
  await page.getByLabel(/^One-off cost/).fill('1,200.00');

  await page.getByRole('button', { name: 'Preview the impact and risk' }).click();
  const preview = page.locator('#preview');
  await preview.waitFor();
  const previewText = (await preview.textContent())!;
  expect(previewText).toMatch(/Risk: (low|moderate|high|very high) \(score \d+\)/);
  expect(previewText).toContain('Reaches a tier 2 business service');
  expect(previewText).toContain(serviceName);
  expect(previewText).toContain(manager.name);
  expect(await db('change_requests').where({ title }).first()).toBeUndefined();
  await page.screenshot({ path: artifactPath('change-journey-1-preview.png'), fullPage: true });
  await checkAccessibility(page);

  await page.getByRole('button', { name: 'Submit the change' }).click();
  await page.waitForURL(/\/ui\/changes\/CHG\d{7}$/);
  const number = new URL(page.url()).pathname.split('/').pop()!;
  await page.getByRole('heading', { level: 1, name: `${number}: ${title}` }).waitFor();
  await page.screenshot({ path: artifactPath('change-journey-2-submitted.png'), fullPage: true });

  // The approver: the link in the email.
  const task = await stack.sink.waitFor((m) => m.to.includes(manager.email) && m.subject.includes(number));
  const link = /(http:\/\/\S+\/approvals\/\S+)/.exec(task.text)![1];
  const approverPage = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await approverPage.goto(link);
  await approverPage.getByRole('heading', { level: 1 }).filter({ hasText: number }).waitFor();
  await approverPage.getByLabel('Comment').fill('Fine before the close');
  await approverPage.getByRole('button', { name: 'Approve' }).click();
  await approverPage.getByRole('status').first().waitFor();
  await approverPage.screenshot({ path: artifactPath('change-journey-3-approved.png'), fullPage: true });
  await approverPage.close();

  // The asset manager: started, then completed, on the change's page.
  await eventually(async () => (await db('change_requests').where({ number }).first())?.state === 'implement');
  const implementerPage = await signedInPage(implementer);
  await implementerPage.goto(`${stack.baseUrl}/ui/changes/${number}`);
  expect(await implementerPage.locator('#change-state').textContent()).toBe('implement');
  await implementerPage.getByLabel('Notes').fill('DIMMs in, host booted');
  await implementerPage.getByRole('button', { name: 'Record implementation started' }).click();
  await implementerPage.getByText('Implementation started is recorded.').waitFor();
  await implementerPage.getByLabel('Notes').fill('Memory test passed, ledger up');
  await implementerPage.screenshot({ path: artifactPath('change-journey-4-implementing.png'), fullPage: true });
  await checkAccessibility(implementerPage);
  await implementerPage.getByRole('button', { name: 'Record completed' }).click();
  await implementerPage.getByText('Implementation completed is recorded').waitFor();

  await eventually(async () => (await db('change_requests').where({ number }).first())?.state === 'closed');
  await implementerPage.reload();
  expect(await implementerPage.locator('#change-state').textContent()).toBe('closed (successful)');
  await implementerPage.screenshot({ path: artifactPath('change-journey-5-closed.png'), fullPage: true });

  // The requester sees it closed too.
  await page.reload();
  expect(await page.locator('#change-state').textContent()).toBe('closed (successful)');
  await checkAccessibility(page);
  expect(describeViolations(violations)).toBe('');
});
