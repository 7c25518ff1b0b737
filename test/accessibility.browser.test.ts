/**
 * Every page of the web UI, checked by axe-core in Chromium, over the demo company's data: each GET
 * route the router declares (WEB_UI_ROUTES, so a page added tomorrow is checked tomorrow), the
 * public approval page an approver opens from the email, /dev/mail, and the new-change and
 * new-purchase forms showing their errors. No serious or critical violation on any of them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WEB_UI_ROUTES } from '../api/web/router';
import { loadDemoData } from '../demo/seed';
import { submitDemoRequests } from '../demo/requests';
import { insertImport } from '../model/imports';
import { openStewardCase, startStewardCaseWorkflows } from '../model/reconciliation/cases';
import { accessibilityViolations, blocking, describeViolations, type Violation } from './support/accessibility';
import { artifactPath, launchBrowser } from './support/browser';
import { createPerson, eventually, type TestPerson } from './support/fixtures';
import { RELAXED_APPROVAL_TIMINGS, send, startStack, type Stack } from './support/stack';

let stack: Stack;
let browser: Browser;
/** Holds every role, so every page lets them in: admin, process owner, asset manager, requester, approver. */
let everyone: TestPerson;
let signedIn: BrowserContext;
let demo: { changeNumber: string; changeWorkflowId: string; purchaseNumber: string; approvalLink: string };

// OpenID Connect is not configured here: those two routes only redirect to a provider.
const NOT_PAGES = new Set(['/sign-in/oidc', '/sign-in/oidc/callback']);
// Opened without a session (a signed-in person is sent on from there).
const PUBLIC_PAGES = new Set(['/sign-in']);
/** The query a route needs to answer at all. */
const QUERIES: Record<string, () => string> = {
  '/audit/export': () => `?workflowId=${encodeURIComponent(demo.changeWorkflowId)}`,
};

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack({ demoSignIn: true, mailbox: true }), launchBrowser()]);
  const db = stack.database.db;
  const { people } = await loadDemoData(db, () => undefined, new Date(), { publicKeys: true });
  const [changeNumber, , , purchaseNumber] = await submitDemoRequests(db, stack.baseUrl, people);
  everyone = await createPerson(db, ['admin', 'process_owner', 'asset_manager', 'requester', 'approver'], 'Avery Everyone');
  const change = await eventually(async () => (await db('change_requests').where({ number: changeNumber }).first('workflow_id')) as { workflow_id: string } | undefined);
  const approvalMail = await stack.sink.waitFor((m) => m.subject.includes(changeNumber) && /\/approvals\//.test(m.text), 60_000);
  demo = {
    changeNumber,
    changeWorkflowId: change.workflow_id,
    purchaseNumber,
    approvalLink: /(http:\/\/\S+\/approvals\/\S+)/.exec(approvalMail.text)![1],
  };
  signedIn = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await signedIn.newPage();
  await page.goto(`${stack.baseUrl}/ui/sign-in`);
  await page.getByLabel('API key', { exact: true }).fill(everyone.apiKey);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/ui/sign-in'));
  await page.close();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The first link on a list page to one of its records, for a :ref nobody can know in advance. */
async function firstRecordOn(page: Page, listPath: string): Promise<string> {
  await page.goto(`${stack.baseUrl}${listPath}`);
  const hrefs = await page.locator(`a[href^="${listPath}/"]`).evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
  const record = hrefs.map((href) => decodeURIComponent(href.slice(listPath.length + 1))).find((rest) => rest && !/[/?]/.test(rest) && rest !== 'new' && rest !== 'export');
  if (!record) throw new Error(`no record linked from ${listPath} to fill its :ref`);
  return record;
}

/** An import to show: a dry run of the demo's own cost centres, as exported. */
async function anImport(page: Page): Promise<string> {
  const exported = await page.request.get(`${stack.baseUrl}/ui/master-data/cost-centres/export`);
  const [header, firstRow] = (await exported.text()).split('\n');
  const staged = await send(stack, everyone.apiKey, 'POST', '/imports?kind=cost-centres&format=csv&dryRun=true&fileName=a11y.csv', {
    body: `${header}\n${firstRow}\n`, headers: { 'content-type': 'text/csv' },
  });
  if (staged.status !== 202) throw new Error(`staging an import answered ${staged.status}: ${staged.text}`);
  return staged.body.id as string;
}

/** An inventory batch to show: a dry run of one discovered server, with its report. */
async function anInventoryBatch(): Promise<string> {
  const row = { ciClass: 'server', hostname: 'a11y-discovered.corp.example', serialNumber: 'A11Y-DISCOVERED-1', location: 'Rack 7' };
  const staged = await send(stack, everyone.apiKey, 'POST', '/inventory/batches?source=discovery&format=jsonl&dryRun=true', {
    body: `${JSON.stringify(row)}\n`, headers: { 'content-type': 'application/x-ndjson' },
  });
  if (staged.status !== 202) throw new Error(`staging an inventory batch answered ${staged.status}: ${staged.text}`);
  return staged.body.id as string;
}

/** A data steward case to show: two of the demo's servers held as maybe one thing. */
async function aStewardCase(): Promise<string> {
  const db = stack.database.db;
  const ids: string[] = (await db('configuration_items').where({ ci_class: 'server' }).orderBy('number').limit(2).pluck('id')).sort();
  const [row] = await db('reconciliation_cases').insert({ ci_ids: ids, pair_key: ids.join(':'), reason: 'the row\'s serial names one record and its host name another' }).returning('number');
  return row.number as string;
}

/**
 * A case waiting for a steward's decision, `everyone` among the Data stewards, as a batch opens
 * one: its page then shows the decision form.
 */
async function aStewardCaseToDecide(): Promise<string> {
  const db = stack.database.db;
  const stewards = await db('groups').where({ name: 'Data stewards' }).first('id');
  await db('group_members').insert({ group_id: stewards.id, person_id: everyone.id });
  const ciIds: string[] = await db('configuration_items').where({ ci_class: 'server' }).orderBy('number').offset(2).limit(2).pluck('id');
  const importId = await insertImport(db, {
    kind: 'inventory', format: 'jsonl', fileName: null, dryRun: false, onInvalidRows: 'skip_rows', requestedById: everyone.id,
    inventory: { source: 'discovery', batchKey: null, observedAt: new Date().toISOString() },
  });
  const row = { ciClass: 'server', serialNumber: 'A11Y-CASE-1', hostname: 'a11y-case' };
  const opened = await db.transaction((trx) => openStewardCase(trx, { ciIds, reason: 'the row\'s serial names one record and its host name another', importId, rowNumber: 1, row }));
  await startStewardCaseWorkflows(db, stack.env.client, stack.taskQueue, RELAXED_APPROVAL_TIMINGS.normal, importId, 1, 1);
  await eventually(() => db('approvals').where({ subject_type: 'reconciliation_case', subject_id: opened.caseId, approver_id: everyone.id, state: 'requested' }).first(), 60_000);
  return opened.caseNumber;
}

/** The demo's sample AWS bill, imported: its page shows the totals, scopes and an empty refusal list. */
async function aCostImport(): Promise<string> {
  const sample = readFileSync(path.join(__dirname, '..', 'demo', 'finops', 'aws-focus-2026-10.csv'));
  const sent = await send(stack, everyone.apiKey, 'POST', '/cost-imports?fileName=aws-focus-2026-10.csv', { body: new Uint8Array(sample), headers: { 'content-type': 'text/csv' } });
  if (sent.status !== 202 && sent.status !== 200) throw new Error(`the sample bill was not imported: ${sent.status} ${sent.text}`);
  return sent.body.number as string;
}

/**
 * The value of each route parameter, from the demo's data, by the route it appears in. A route this
 * table cannot fill fails the test by name: add a line for it.
 */
async function paramValues(page: Page): Promise<(route: string, name: string) => Promise<string>> {
  const db = stack.database.db;
  const firstId = async (table: string) => String((await db(table).orderBy('id').first('id')).id);
  const asset = await db('assets').orderBy('asset_tag').first('asset_tag');
  const byRoute: [RegExp, string, () => Promise<string>][] = [
    [/^\/processes\//, 'workflowId', async () => demo.changeWorkflowId],
    [/^\/people\//, 'id', async () => everyone.id],
    [/^\/groups\//, 'id', () => firstId('groups')],
    [/^\/imports\//, 'id', () => anImport(page)],
    [/^\/inventory\/batches\//, 'id', () => anInventoryBatch()],
    [/^\/reconciliation\/cases\//, 'number', () => aStewardCase()],
    [/^\/configuration\/approval-rules\//, 'id', () => firstId('approval_rules')],
    [/^\/configuration\/process-settings\/change-models\//, 'id', () => firstId('change_models')],
    [/^\/configuration\/process-settings\/windows\//, 'id', () => firstId('schedule_windows')],
    [/^(\/ui)?\/changes\//, 'id', async () => demo.changeNumber],
    [/^(\/ui)?\/purchase-requests\//, 'id', async () => demo.purchaseNumber],
    [/^(\/ui)?\/assets\//, 'id', async () => asset.asset_tag as string],
    [/^(\/ui)?\/cis\//, 'ref', async () => 'insights-api-01'],
    [/^\/cobit\//, 'objective', async () => 'apo05'],
    [/^\/finops\/imports\//, 'number', () => aCostImport()],
  ];
  const known = new Map<string, string>();
  return async (route, name) => {
    const list = /^\/master-data\/([^/]+)\/:ref/.exec(route);
    const key = list ? `master-data/${list[1]}` : `${byRoute.findIndex(([pattern, param]) => pattern.test(route) && param === name)}`;
    if (!known.has(key)) {
      if (list) known.set(key, await firstRecordOn(page, `/ui/master-data/${list[1]}`));
      else {
        const entry = byRoute[Number(key)];
        if (!entry) throw new Error(`no demo value for :${name} in ${route}: add one to paramValues in test/accessibility.browser.test.ts`);
        known.set(key, await entry[2]());
      }
    }
    return known.get(key)!;
  };
}

interface Visit {
  url: string;
  status: number;
  /** Where the browser ended when that is another page (sent to sign in, say), so nothing of `url` was checked. */
  landedOn?: string;
  violations: Violation[];
}

/** Opens `url` as a page when it answers HTML; an export (CSV, a report) is only asked for its status. */
async function check(context: BrowserContext, url: string, name = url): Promise<Visit> {
  const answer = await context.request.get(`${stack.baseUrl}${url}`, { maxRedirects: 0 });
  if (!(answer.headers()['content-type'] ?? '').startsWith('text/html')) return { url, status: answer.status(), violations: [] };
  const page = await context.newPage();
  try {
    const response = await page.goto(`${stack.baseUrl}${url}`);
    const landed = new URL(page.url());
    const landedOn = landed.pathname === new URL(`${stack.baseUrl}${url}`).pathname ? undefined : landed.pathname;
    return { url, status: response?.status() ?? 0, landedOn, violations: await accessibilityViolations(page, name) };
  } finally {
    await page.close();
  }
}

const report = (visits: Visit[]) => {
  const failing = visits.filter((v) => v.status >= 400 || v.landedOn).map((v) => `${v.url} answered ${v.status}${v.landedOn ? ` at ${v.landedOn}` : ''}`);
  const violations = visits.flatMap((v) => blocking(v.violations));
  return [...failing, describeViolations(violations)].filter(Boolean).join('\n');
};

it('finds no serious or critical violation on any page the router declares, signed in with every role', async () => {
  const helper = await signedIn.newPage();
  const valueOf = await paramValues(helper);
  const visits: Visit[] = [];
  const routes = WEB_UI_ROUTES.filter((r) => r.method === 'get' && !NOT_PAGES.has(r.path) && !PUBLIC_PAGES.has(r.path));
  for (const route of routes) {
    let url = route.path.startsWith('/ui/') ? route.path : `/ui${route.path === '/' ? '' : route.path}`;
    for (const [, name] of route.path.matchAll(/:(\w+)/g)) url = url.replace(`:${name}`, encodeURIComponent(await valueOf(route.path, name)));
    visits.push(await check(signedIn, url + (QUERIES[route.path]?.() ?? ''), route.path));
  }
  visits.push(await check(signedIn, '/dev/mail'));
  // The case page again, as the steward whose decision it waits for: with its decision form.
  const toDecide = `/ui/reconciliation/cases/${await aStewardCaseToDecide()}`;
  expect(await (await signedIn.request.get(`${stack.baseUrl}${toDecide}`)).text()).toContain('<h2 id="decide">Your decision</h2>');
  visits.push(await check(signedIn, toDecide, '/reconciliation/cases/:number (its decision form)'));
  await helper.close();
  const all = visits.flatMap((v) => v.violations);
  console.log(`axe-core over ${visits.length} pages: ${all.length} violations (${blocking(all).length} serious or critical)\n${describeViolations(all)}`);
  expect(report(visits)).toBe('');
});

it('finds none on the public pages: sign-in and the approval page opened from the email', async () => {
  const anonymous = await browser.newContext({ bypassCSP: true });
  try {
    const visits = [await check(anonymous, '/ui/sign-in'), await check(anonymous, new URL(demo.approvalLink).pathname + new URL(demo.approvalLink).search, '/approvals/:approvalId')];
    expect(report(visits)).toBe('');
  } finally {
    await anonymous.close();
  }
});

/** Submits a form with nothing filled in, past the browser's own checks, as a person without them would. */
async function submitEmpty(page: Page, action: string): Promise<void> {
  const form = page.locator(`form[action="${action}"]`).first();
  await form.evaluate((f) => {
    f.noValidate = true;
  });
  await Promise.all([page.waitForLoadState('load'), form.locator('button[type="submit"]').last().click()]);
}

it.each([
  ['the new change form', '/ui/changes/new'],
  ['the new purchase form', '/ui/purchases/new'],
])('finds none on %s showing its errors', async (_name, path) => {
  const page = await signedIn.newPage();
  try {
    await page.goto(`${stack.baseUrl}${path}`);
    await submitEmpty(page, path);
    await page.locator('[role="alert"]').first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: artifactPath(`accessibility-${path.split('/')[2]}-errors.png`), fullPage: true });
    const violations = blocking(await accessibilityViolations(page, `${path} (with errors)`));
    expect(describeViolations(violations)).toBe('');
  } finally {
    await page.close();
  }
});
