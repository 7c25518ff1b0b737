/**
 * The master-data form in headless Chromium, with the keyboard alone (Tab, Enter, typing): an
 * admin signs in, fills in a new cost centre, has the owner refused, lands on the error summary,
 * follows its link to the field, corrects it and saves. Screenshots land in test-artifacts/.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { artifactPath, launchBrowser } from './support/browser';
import { createPerson, type TestPerson } from './support/fixtures';
import { startStack, type Stack } from './support/stack';

let stack: Stack;
let browser: Browser;
let admin: TestPerson;
let owner: TestPerson;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack({ worker: false }), launchBrowser()]);
  admin = await createPerson(stack.database.db, ['admin'], 'Ada Admin');
  owner = await createPerson(stack.database.db, ['approver'], 'Otto Owner');
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** What has the focus: its id, or its tag and text. (Expressions as text: the tests are compiled without the DOM's types.) */
const focused = (page: Page) => page.evaluate<string>(`(() => {
  const element = document.activeElement;
  return element.id || element.tagName.toLowerCase() + ':' + (element.textContent || '').trim();
})()`);

/** Presses Tab until `target` (as `focused` names it) has the focus; fails if it never does. */
async function tabTo(page: Page, target: string, most = 40): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < most; i++) {
    await page.keyboard.press('Tab');
    const now = await focused(page);
    if (now === target) return;
    seen.push(now);
  }
  throw new Error(`Tab never reached ${target}; it went through: ${seen.join(', ')}`);
}

it('creates a cost centre and fixes a refused field with the keyboard alone', async () => {
  const code = `KB-${randomBytes(3).toString('hex').toUpperCase()}`;
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();

  await page.goto(`${stack.baseUrl}/ui/master-data/cost-centres/new`);
  expect(new URL(page.url()).pathname).toBe('/ui/sign-in');
  await tabTo(page, 'apiKey');
  await page.keyboard.type(admin.apiKey);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'New record: cost centres' }).waitFor();

  await tabTo(page, 'f-code');
  // The focus is visible: the page's :focus-visible outline.
  expect(await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
  await page.keyboard.type(code.toLowerCase());
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('f-name');
  await page.keyboard.type('Keyboard team');
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('f-ownerEmail');
  await page.keyboard.type('ghost@nowhere.example');
  await tabTo(page, 'button:Create');
  await page.keyboard.press('Enter');

  // Refused: the summary has the focus and names the field; the field says why and keeps what was typed.
  await page.getByRole('alert').getByRole('heading', { name: 'Nothing was saved: there is a problem' }).waitFor();
  expect(await focused(page)).toBe('error-summary');
  const field = page.getByLabel('Owner email');
  expect(await field.getAttribute('aria-invalid')).toBe('true');
  expect(await page.locator(`#${await field.getAttribute('aria-describedby')}`).textContent()).toContain('no active person has this email');
  expect(await page.getByLabel('Name').inputValue()).toBe('Keyboard team');
  expect(await stack.database.db('cost_centres').where({ code }).first()).toBeUndefined();
  await page.screenshot({ path: artifactPath('master-data-refused.png'), fullPage: true });

  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('a:Owner email: no active person has this email (given: ghost@nowhere.example)');
  await page.keyboard.press('Enter');
  await page.waitForFunction(`document.activeElement.id === 'f-ownerEmail'`);
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(owner.email);
  await tabTo(page, 'button:Create');
  await page.keyboard.press('Enter');

  await page.getByRole('heading', { level: 1, name: `${code} — Keyboard team` }).waitFor();
  expect(new URL(page.url()).pathname).toBe(`/ui/master-data/cost-centres/${code}`);
  expect(await page.getByRole('status').first().textContent()).toContain('Created.');
  expect(await stack.database.db('cost_centres').where({ code }).first()).toMatchObject({ name: 'Keyboard team', owner_id: owner.id, version: 1 });
  await page.screenshot({ path: artifactPath('master-data-created.png'), fullPage: true });
});
