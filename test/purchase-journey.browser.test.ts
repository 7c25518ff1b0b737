/**
 * Buying three laptops the way people do, in headless Chromium: the requester finds them in the
 * catalogue, checks the price and the budget, and submits; the two approvers approve from the
 * links in their emails; an asset manager receives them in two deliveries (two serials pasted as
 * a list, then one typed) and opens the three assets, each in stock. Screenshots land in
 * test-artifacts/.
 */
import type { Browser, Page } from 'playwright-core';
import { accessibilityViolations, blocking, describeViolations } from './support/accessibility';
import { artifactPath, launchBrowser } from './support/browser';
import { createApprovalRule, createCostCentre, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { startStack, type Stack } from './support/stack';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A page in a fresh browser; the context bypasses the CSP only so that axe-core can run in it. */
async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  return context.newPage();
}

/** No serious or critical axe-core violation on the page as it is now. */
async function expectAccessible(page: Page): Promise<void> {
  expect(describeViolations(blocking(await accessibilityViolations(page)))).toBe('');
}

async function signIn(page: Page, person: TestPerson, path: string): Promise<void> {
  await page.goto(`${stack.baseUrl}${path}`);
  await page.getByLabel('API key').fill(person.apiKey);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.pathname === path);
}

/** Opens the approval link of the email to this approver, without signing in, and approves. */
async function approveFromEmail(approver: TestPerson, number: string, screenshot: string): Promise<void> {
  const mail = await stack.sink.waitFor((m) => m.to.includes(approver.email) && m.subject.includes('Approval needed') && m.subject.includes(number));
  const link = /(https?:\/\/\S+\/approvals\/[0-9a-f-]+\?token=\S+)/.exec(mail.text)![1];
  const page = await newPage();
  await page.goto(link);
  await page.getByLabel('Comment').fill('Approved for the new starters');
  await page.screenshot({ path: artifactPath(screenshot), fullPage: true });
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.locator('p.decided').filter({ hasText: 'Your decision: approved' }).waitFor();
  await page.context().close();
}

it('a requester buys three laptops from the catalogue, two approvers approve from their emails, an asset manager receives them in two deliveries, and the three assets are in stock', async () => {
  const db = stack.database.db;
  // Names of this run, so that the test needs no fresh database and runs again on the same one.
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`.toUpperCase();
  const model = `ThinkPad Journey ${run}`;
  const costCentre = `CC-J${run}`;
  const manager = await createPerson(db, ['approver'], 'Magda Manager');
  const owner = await createPerson(db, ['approver'], 'Oscar Owner');
  const requester = await createPerson(db, ['requester'], 'Rania Requester', { managerId: manager.id });
  const receiver = await createPerson(db, ['asset_manager'], 'Ahmed Assets');
  await createApprovalRule(db, { process: 'procurement', stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  await createApprovalRule(db, { process: 'procurement', stepOrder: 2, name: 'Cost centre owner', appliesWhen: { minCostMinor: 100_000 }, approverKind: 'cost_centre_owner' });
  const [{ id: vendor }] = await db('vendors').insert({ name: `Journey Computers ${run}`, contact_email: 'orders@journey.example' }).returning('id');
  const [contract] = await db('contracts')
    .insert({ vendor_id: vendor, kind: 'purchase', title: 'Laptops 2026-2028', starts_on: '2026-01-01', ends_on: '2028-12-31', currency: 'EUR' })
    .returning(['id', 'number']);
  const laptop = await createHardwareModel(db, { vendor_id: vendor, manufacturer: 'Lenovo', name: model, list_price_minor: 145_000 });
  await db('contract_prices').insert({ contract_id: contract.id, hardware_model_id: laptop, unit_price_minor: 120_000, currency: 'EUR' });
  await createHardwareModel(db, { vendor_id: vendor, manufacturer: 'Dell', name: `Latitude Journey ${run}`, list_price_minor: 160_000 });
  const costCentreId = await createCostCentre(db, costCentre, `Journey analytics ${run}`, 2_000_000);
  await db('cost_centres').where({ id: costCentreId }).update({ owner_id: owner.id });

  // The requester finds the laptops in the catalogue, checks, then submits.
  const page = await newPage();
  await signIn(page, requester, '/ui/my-requests');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New request' }).click();
  await page.getByRole('link', { name: /Buy from the catalogue/ }).click();
  await page.getByRole('heading', { level: 1, name: 'Buy from the catalogue' }).waitFor();
  await page.getByLabel('Name contains').fill(model);
  await page.getByLabel('Category').selectOption('laptop');
  await page.getByRole('button', { name: 'Search' }).click();
  const row = page.locator('#catalogue tbody tr').filter({ hasText: model });
  expect(await row.textContent()).toContain(`EUR 1,200.00 (contract ${contract.number} price)`);
  expect(await page.locator('#catalogue tbody tr').filter({ hasText: 'Latitude' }).count()).toBe(0);
  await page.getByLabel(`Quantity of Lenovo ${model}`).fill('3');
  await page.getByLabel('Cost centre').selectOption(costCentre);
  await page.getByLabel('Justification').fill('Three data engineers start in January');
  const requestsBefore = await db('purchase_requests').count({ n: '*' });
  await page.getByRole('button', { name: 'Check' }).click();
  await page.locator('#check').waitFor();
  expect(await page.locator('#check-total').textContent()).toBe('EUR 3,600.00');
  expect(await page.locator('#budget-before').textContent()).toBe('EUR 20,000.00');
  expect(await page.locator('#budget-after').textContent()).toBe('EUR 16,400.00');
  expect(await page.locator('#over-budget').textContent()).toBe('no');
  // Check writes nothing.
  expect(await db('purchase_requests').count({ n: '*' })).toEqual(requestsBefore);
  await expectAccessible(page);
  await page.screenshot({ path: artifactPath('purchase-check.png'), fullPage: true });
  await page.getByRole('button', { name: 'Submit' }).click();
  await page.waitForURL(/\/ui\/purchase-requests\/PR\d+/);
  const number = /PR\d+/.exec(page.url())![0];
  expect(await page.getByRole('status').textContent()).toContain('Your purchase request was submitted');
  // The workflow's budget check prices it a moment after it is registered.
  await eventually(async () => {
    if ((await page.locator('#purchase-total').textContent()) === 'EUR 3,600.00') return true;
    await page.reload();
    return false;
  });
  await page.screenshot({ path: artifactPath('purchase-submitted.png'), fullPage: true });
  await page.context().close();

  // The approvers approve from the links in their emails, one step after the other.
  await approveFromEmail(manager, number, 'purchase-approval-manager.png');
  await approveFromEmail(owner, number, 'purchase-approval-owner.png');

  // The asset manager receives two laptops (serials pasted as a list), then the third (typed).
  const desk = await newPage();
  await signIn(desk, receiver, `/ui/purchase-requests/${number}`);
  const serials = desk.getByLabel(/Serial numbers received, line 1/);
  await eventually(async () => {
    await desk.reload();
    return (await serials.count()) === 1;
  });
  const tag = run;
  await serials.fill(`PF-${tag}-01\nPF-${tag}-02`);
  await expectAccessible(desk);
  await desk.screenshot({ path: artifactPath('purchase-receive-first.png'), fullPage: true });
  await desk.getByRole('button', { name: 'Record delivery' }).click();
  await desk.getByRole('status').filter({ hasText: 'The delivery is recorded' }).waitFor();
  expect(await desk.locator('#receipts').textContent()).toContain(`PF-${tag}-01, PF-${tag}-02`);
  await serials.pressSequentially(`PF-${tag}-03`);
  await desk.getByRole('button', { name: 'Record delivery' }).click();
  await desk.getByRole('status').filter({ hasText: 'The delivery is recorded' }).waitFor();
  await eventually(async () => {
    await desk.reload();
    return (await desk.locator('#received-assets tbody tr').count()) === 3;
  });
  await expectAccessible(desk);
  await desk.screenshot({ path: artifactPath('purchase-received.png'), fullPage: true });

  // Each of the three assets, opened from the request, is in stock.
  const tags = await desk.locator('#received-assets tbody th a').allTextContents();
  expect(tags).toHaveLength(3);
  for (const [i, assetTag] of tags.entries()) {
    await desk.goto(`${stack.baseUrl}/ui/purchase-requests/${number}`);
    await desk.locator('#received-assets').getByRole('link', { name: assetTag }).click();
    await desk.waitForURL((url) => url.pathname === `/ui/assets/${assetTag}`);
    await eventually(async () => {
      const state = await desk.locator('#asset-state').textContent();
      if (state?.includes('in stock')) return true;
      await desk.reload();
      return false;
    });
    expect(await desk.textContent('main')).toContain(`PF-${tag}-0`);
    if (i === 0) await desk.screenshot({ path: artifactPath('purchase-asset-in-stock.png'), fullPage: true });
  }
  await desk.context().close();
});
