/**
 * An asset manager retires an asset from its page, in headless Chromium, the way a person would:
 * finds it in the list, opens it, learns why putting it into use needs an assignee (and is refused
 * without one), then retires it as disposed with the data-wipe attestation and sees it retired,
 * with the history row and its licence reclaimed. Screenshots land in test-artifacts/.
 */
import type { Browser, Page } from 'playwright-core';
import { accessibilityViolations, blocking, describeViolations } from './support/accessibility';
import { artifactPath, launchBrowser } from './support/browser';
import { createAsset, createPerson, installSoftware } from './support/fixtures';
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

/** The serious and critical axe-core violations of the page as it is, one line each (the context bypasses the CSP to run axe). */
const seriousViolations = async (page: Page): Promise<string> => describeViolations(blocking(await accessibilityViolations(page)));

it('an asset manager finds an asset, sees why in use is refused without an assignee, and retires it as disposed from its page', async () => {
  const db = stack.database.db;
  const manager = await createPerson(db, ['asset_manager'], 'Ines Inventory');
  const asset = await createAsset(db);
  const productId = await installSoftware(db, asset.id, 3);
  const product = await db('software_products').where({ id: productId }).first('name');

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${stack.baseUrl}/ui/assets`);
  await page.getByLabel('API key').fill(manager.apiKey);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Assets' }).waitFor();

  await page.getByLabel('Tag or serial').fill(asset.assetTag);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/q=AST/);
  await page.screenshot({ path: artifactPath('asset-retire-list.png'), fullPage: true });
  expect(await seriousViolations(page)).toBe('');
  await page.getByRole('link', { name: asset.assetTag }).click();
  await page.getByRole('heading', { level: 1, name: new RegExp(asset.assetTag) }).waitFor();
  expect(await page.locator('#asset-state').textContent()).toBe('in stock (available)');

  const inUse = page.getByRole('article', { name: 'in use' });
  expect(await inUse.getByText('Needed: an asset in use needs an assignee').isVisible()).toBe(true);
  await inUse.getByRole('button', { name: 'Move to in use' }).click();
  await page.getByRole('alert').first().waitFor();
  const assignee = page.getByRole('article', { name: 'in use' }).getByLabel('Assignee\'s email');
  expect(await assignee.getAttribute('aria-invalid')).toBe('true');
  expect(await page.locator('#move-in_use-assignedToId-error').textContent()).toBe('an asset in use needs an assignee or a configuration item it backs');
  expect(await page.locator('#asset-state').textContent()).toBe('in stock (available)');
  await page.screenshot({ path: artifactPath('asset-retire-in-use-refused.png'), fullPage: true });
  expect(await seriousViolations(page)).toBe('');

  const retire = page.getByRole('article', { name: 'Retire' });
  await retire.getByLabel('Reason').selectOption('disposed');
  await retire.getByLabel('Wiped by').fill('IT Operations');
  await retire.getByLabel('Wiped at').fill('2026-11-28T10:00');
  await retire.getByLabel('Method').fill('NIST 800-88 purge');
  await retire.getByLabel('Certificate id').fill('WIPE-2026-0099');
  await retire.getByLabel('Note').fill('End of life: battery swollen');
  await retire.getByRole('button', { name: 'Retire' }).click();
  await page.getByText('Done: the asset is now retired (disposed).').waitFor();

  expect(await page.locator('#asset-state').textContent()).toBe('retired (disposed)');
  const history = await page.locator('#asset-history').textContent();
  expect(history).toContain('in stock (available) → retired (disposed)');
  expect(history).toContain(manager.email);
  expect(history).toContain('note: End of life: battery swollen');
  expect(history).toContain('certificate WIPE-2026-0099');
  expect(history).toContain(`reclaimed 1 × Adobe ${product.name}`);
  expect(await page.locator('#asset-licences').getByRole('row', { name: new RegExp(product.name) }).textContent()).not.toContain('still installed');
  expect(await page.getByRole('button', { name: 'Retire' }).count()).toBe(0);
  await page.screenshot({ path: artifactPath('asset-retire-retired.png'), fullPage: true });
  expect(await seriousViolations(page)).toBe('');
  await context.close();

  expect(await db('assets').where({ id: asset.id }).first('state', 'substate')).toEqual({ state: 'retired', substate: 'disposed' });
});
