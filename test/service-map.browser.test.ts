/**
 * The service map at scale, in headless Chromium: on the 10,000-CI generated estate
 * (scripts/generate-estate.ts, as the benchmark uses it), a change on a shared hub reaches
 * thousands of CIs; its impact map renders with boxes that link to CIs, groups the CIs over the
 * cap by depth and class, and its table lists every reached CI, a page at a time (the picture and
 * the table alone showing the same rows); axe-core finds nothing serious on the map, the hub's own
 * page or the CI list. Screenshots land in test-artifacts/.
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { IMPACT_ROWS_PER_PAGE } from '../api/web/ci-pages';
import { NODE_CAP } from '../api/web/service-map';
import { generateEstate } from '../scripts/generate-estate';
import { accessibilityViolations, blocking, describeViolations } from './support/accessibility';
import { artifactPath, launchBrowser } from './support/browser';
import { createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

let stack: Stack;
let browser: Browser;
let requester: TestPerson;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  requester = await createPerson(stack.database.db, ['requester'], 'Hana Hub');
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The CI numbers of the impact table's rows on the page open now. */
const tableNumbers = (page: Page) =>
  // Run in the page (a string: this project compiles without the DOM's types).
  page.evaluate<string[]>(`[...document.querySelectorAll('table#reached tbody tr th a')].map((a) => a.getAttribute('href').split('/').pop())`);

it('renders the impact map of a change on a hub of the 10,000-CI estate, grouped over the cap, with every reached CI in the table', async () => {
  const db = stack.database.db;
  const estate = await generateEstate(db, { cis: 10_000, seed: 42, prefix: `map-${randomBytes(3).toString('hex')}-` });
  // A core network device: every server uses one, so most of the estate depends on it.
  const hub = estate.hubIds[0];
  const { status, body: change } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Replace the core switch', affectedCiIds: [hub] });
  expect(status).toBe(201);
  const impact = await eventually(async () => (await db('change_requests').where({ id: change.id }).first('impact'))?.impact as { services: { cisReached: number } } | undefined, 60_000);
  expect(impact.services.cisReached).toBeGreaterThan(NODE_CAP);

  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  await page.goto(`${stack.baseUrl}/ui/sign-in`);
  await page.getByLabel('API key', { exact: true }).fill(requester.apiKey);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/ui/sign-in'));

  await page.goto(`${stack.baseUrl}/ui/changes/${change.number}/impact-map`);
  await page.getByRole('heading', { level: 1, name: new RegExp(change.number) }).waitFor();
  const map = page.getByRole('group', { name: `The impact of ${change.number}` });
  await map.waitFor();

  // Boxes of their own up to the cap, the rest in groups, each a link.
  const boxes = page.locator('#impact svg a.node:not(.cluster)');
  const groups = page.locator('#impact svg a.node.cluster');
  expect(await boxes.count()).toBe(NODE_CAP);
  expect(await groups.count()).toBeGreaterThan(0);
  expect(await groups.first().locator('title').textContent()).toMatch(/^\+\d+ .+ at depth \d+/);
  expect(await page.locator('#impact svg path.edge').count()).toBeGreaterThan(0);
  expect(await page.locator('#impact svg a.node .shape.changed').count()).toBe(1);
  // The changed hub is the box on the far left: every other box starts to the right of its end.
  const lefts = await page.evaluate<{ hub: { x: number; width: number }; others: number[] }>(`(() => {
    const boxes = [...document.querySelectorAll('#impact svg a.node')].map((a) => ({ changed: !!a.querySelector('.shape.changed'), box: a.getBBox() }));
    const hub = boxes.find((b) => b.changed).box;
    return { hub: { x: hub.x, width: hub.width }, others: boxes.filter((b) => !b.changed).map((b) => b.box.x) };
  })()`);
  expect(lefts.others.length).toBeGreaterThanOrEqual(NODE_CAP - 1);
  expect(Math.min(...lefts.others)).toBeGreaterThan(lefts.hub.x + lefts.hub.width);

  // The table lists every CI the walk reached, a page at a time, the business services among them.
  const reached = Number(/^(\d+)/.exec((await page.locator('#cis-reached').textContent())!)![1]);
  expect(reached).toBe(impact.services.cisReached);
  expect(reached).toBeGreaterThan(IMPACT_ROWS_PER_PAGE);
  const firstPage = await tableNumbers(page);
  expect(firstPage).toHaveLength(IMPACT_ROWS_PER_PAGE);
  expect(await page.locator('table#reached caption').textContent()).toBe(`Every CI ${change.number} reaches, by depth: 1 to ${IMPACT_ROWS_PER_PAGE} of ${reached}`);

  // The scrolled picture as it opens, then the page.
  await page.locator('#impact').screenshot({ path: artifactPath('service-map-hub-impact.png') });
  await page.screenshot({ path: artifactPath('service-map-hub-impact-page.png') });

  // A group links to the page and row where its depth and class start in the table.
  const group = groups.last();
  const [, groupDepth] = /at depth (\d+)/.exec((await group.locator('title').textContent())!)!;
  const href = (await group.getAttribute('href'))!;
  const [, anchor] = /#(depth-(?:\d+)-[a-z_]+)$/.exec(href)!;
  expect(anchor.startsWith(`depth-${groupDepth}-`)).toBe(true);
  await page.goto(new URL(href, page.url()).toString());
  const groupRow = page.locator(`table#reached tr#${anchor}`);
  expect(await groupRow.count()).toBe(1);
  expect(await groupRow.locator('td.num').textContent()).toBe(groupDepth);

  // The table alone lists the same rows as the picture's page (the bench compares the two); its
  // pages, followed by "Next", hold every reached CI once, the business services among them.
  await page.goto(`${stack.baseUrl}/ui/changes/${change.number}/impact-map?view=table`);
  expect(await page.locator('#impact svg').count()).toBe(0);
  expect(await tableNumbers(page)).toEqual(firstPage);
  const listed: string[] = [];
  let services = 0;
  for (;;) {
    listed.push(...(await tableNumbers(page)));
    services += await page.locator('table#reached tbody tr', { hasText: 'business service' }).count();
    const next = page.locator('nav.pager a[rel="next"]');
    if (!(await next.count())) break;
    await page.goto(new URL((await next.getAttribute('href'))!, page.url()).toString());
  }
  expect(listed).toHaveLength(reached);
  expect(new Set(listed).size).toBe(reached);
  expect(services).toBeGreaterThan(0);
  await context.close();

  // Accessibility: the pages' CSP allows no scripts, so axe runs in a context that bypasses it.
  const checking = await browser.newContext({ viewport: { width: 1400, height: 1000 }, bypassCSP: true });
  const checked = await checking.newPage();
  await checked.goto(`${stack.baseUrl}/ui/sign-in`);
  await checked.getByLabel('API key', { exact: true }).fill(requester.apiKey);
  await checked.getByRole('button', { name: 'Sign in', exact: true }).click();
  await checked.waitForURL((url) => !url.pathname.startsWith('/ui/sign-in'));
  const hubNumber = (await db('configuration_items').where({ id: hub }).first('number')).number as string;
  const violations = [];
  for (const path of [`/ui/changes/${change.number}/impact-map`, `/ui/cis/${hubNumber}`, `/ui/cis/${hubNumber}/map?depth=2`, '/ui/cis?class=business_service']) {
    await checked.goto(`${stack.baseUrl}${path}`);
    violations.push(...blocking(await accessibilityViolations(checked, path)));
  }
  await checked.screenshot({ path: artifactPath('service-map-ci-list.png') });
  expect(describeViolations(violations)).toBe('');
  await checking.close();
  // Generating the estate and running axe over pages of thousands of rows take their time on a busy machine.
}, 300_000);
