/**
 * The import pages of the web UI, with the worker: a CSV of cost centres uploaded through the form
 * (multipart, the CSRF token first) as a dry run shows each row's verdict and writes nothing; a
 * file with bad rows under reject_file is refused whole and its page names each bad row (and the
 * refused rows download as CSV); a file whose row passes the check but is refused when written is
 * shown as not applied whole; a form without the session's token imports nothing; the pages (and
 * the Imports link) are not for requesters, and a kind is imported only by its writers.
 */
import { randomBytes } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { createCostCentre, createPerson, eventually, type TestPerson } from './support/fixtures';
import { startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent, type WebAgent, type WebAnswer } from './support/web-agent';

let stack: Stack;
let admin: TestPerson;
let owner: TestPerson;
let adminAgent: WebAgent;
let csrf: string;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  owner = await createPerson(db, ['approver'], 'Otto Owner');
  adminAgent = webAgent(stack.baseUrl);
  expect((await signInWithKey(adminAgent, admin.apiKey)).status).toBe(303);
  csrf = hiddenCsrf((await browse(adminAgent, 'GET', '/ui/imports/new')).html)!;
});

afterAll(async () => {
  await stack?.stop();
});

const unique = () => randomBytes(3).toString('hex').toUpperCase();

type Part = [string, string] | [string, { content: string; fileName: string }];

/** Posts a multipart form as a browser does: the parts in the order given, with the agent's cookies. */
async function postMultipart(agent: WebAgent, path: string, parts: Part[]): Promise<WebAnswer> {
  const form = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([value.content], { type: 'text/csv' }), value.fileName);
  }
  const res = await fetch(`${agent.baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    body: form,
  });
  return { status: res.status, location: res.headers.get('location'), setCookies: res.headers.getSetCookie(), headers: res.headers, html: await res.text() };
}

const uploadParts = (options: { token?: string; kind?: string; dryRun?: boolean; onInvalidRows?: string; fileName: string; content: string }): Part[] => [
  ...(options.token ? [['csrf', options.token] as Part] : []),
  ['kind', options.kind ?? 'cost-centres'],
  ['format', 'auto'],
  ...(options.dryRun ? [['dryRun', 'yes'] as Part] : []),
  ['onInvalidRows', options.onInvalidRows ?? 'reject_file'],
  ['file', { content: options.content, fileName: options.fileName }],
];

/** Uploads through the form, follows the redirect and waits until the import has finished; answers its id and page. */
async function importThroughForm(content: string, options: { dryRun: boolean; onInvalidRows?: string }): Promise<{ id: string; page: WebAnswer }> {
  const sent = await postMultipart(adminAgent, '/ui/imports', uploadParts({ token: csrf, fileName: 'cost-centres.csv', content, ...options }));
  expect(sent.status).toBe(303);
  const [, id] = /^\/ui\/imports\/([0-9a-f-]{36})$/.exec(sent.location!)!;
  await eventually(async () => {
    const row = await stack.database.db('imports').where({ id }).first('state');
    return ['previewed', 'completed', 'refused', 'failed'].includes(row.state);
  });
  return { id, page: await browse(adminAgent, 'GET', `/ui/imports/${id}`) };
}

/** The cells of the row report's lines for a file row: [result, column, value, reason] for each line. */
function reportLines(html: string, rowNumber: number): string[][] {
  const lines = [...html.matchAll(/<tr(?: id="row-\d+")?>\n<th scope="row" class="num">(\d+)<\/th>\n<td>[^<]*<\/td>\n<td>([^<]*)<\/td>\n<td>([^<]*)<\/td>\n<td class="details">([^<]*)<\/td>\n<td>([^<]*)<\/td>/g)];
  return lines.filter((m) => Number(m[1]) === rowNumber).map((m) => [m[2], m[3], m[4], m[5]]);
}

async function importsCount(): Promise<number> {
  return Number((await stack.database.db('imports').count({ n: '*' }))[0].n);
}

it('offers a form with the token first, the kinds the person may write, a dry run checked and both policies explained', async () => {
  const form = await browse(adminAgent, 'GET', '/ui/imports/new');
  expect(form.status).toBe(200);
  expect(form.html).toContain('enctype="multipart/form-data"');
  expect(form.html.indexOf('name="csrf"')).toBeLessThan(form.html.indexOf('name="kind"'));
  expect(form.html.indexOf('name="onInvalidRows"')).toBeLessThan(form.html.indexOf('type="file"'));
  expect(form.html).toContain('<option value="cost-centres">Cost centres</option>');
  expect(form.html).toMatch(/name="dryRun" type="checkbox" value="yes" checked/);
  expect(form.html).toContain('Reject the whole file');
  expect(form.html).toContain('Skip the bad rows');

  const manager = await createPerson(stack.database.db, ['asset_manager'], 'Mona Manager');
  const managerAgent = webAgent(stack.baseUrl);
  await signInWithKey(managerAgent, manager.apiKey);
  const managerForm = await browse(managerAgent, 'GET', '/ui/imports/new');
  expect(managerForm.status).toBe(200);
  expect(managerForm.html).not.toContain('value="cost-centres"');
});

it('previews a dry run of a CSV of cost centres: each row\'s verdict on the page, nothing written', async () => {
  const db = stack.database.db;
  const tag = unique();
  await createCostCentre(db, `KEEP-${tag}`, 'Kept as it is', null);
  await createCostCentre(db, `EDIT-${tag}`, 'Old name', null);
  const csv = `code,name,ownerEmail\nnew-${tag},New team,${owner.email}\nKEEP-${tag},Kept as it is,\nEDIT-${tag},New name,\n`;

  const { id, page } = await importThroughForm(csv, { dryRun: true });
  expect(page.status).toBe(200);
  expect(page.html).toContain('dry run done: nothing was written');
  expect(page.html).toMatch(/id="import-counts">3 in the file; 1 to create, 1 to update, 1 unchanged/);
  expect(reportLines(page.html, 1)).toEqual([['would create', '', '', '']]);
  expect(reportLines(page.html, 2)).toEqual([['unchanged', '', '', '']]);
  expect(reportLines(page.html, 3)).toEqual([['would update', '', '', '']]);
  expect(page.html).toContain('name: Old name → New name');
  expect(page.html).toContain('id="apply-hint"');
  expect(page.html).not.toContain('Refresh');

  expect(await db('cost_centres').whereRaw('upper(code) = ?', [`NEW-${tag}`]).first()).toBeUndefined();
  expect((await db('cost_centres').whereRaw('upper(code) = ?', [`EDIT-${tag}`]).first('name')).name).toBe('Old name');

  const updatesOnly = await browse(adminAgent, 'GET', `/ui/imports/${id}?filter=updated`);
  expect(reportLines(updatesOnly.html, 3)).toHaveLength(1);
  expect(reportLines(updatesOnly.html, 1)).toEqual([]);

  const list = await browse(adminAgent, 'GET', '/ui/imports');
  expect(list.status).toBe(200);
  expect(list.html).toContain(`href="/ui/imports/${id}"`);
  expect(list.html).toContain('cost-centres.csv');
});

it('refuses a file with bad rows under reject_file: the page names each bad row, and nothing is written', async () => {
  const db = stack.database.db;
  const tag = unique();
  const csv = [
    'code,name,ownerEmail',
    `GOOD-${tag},Good team,`,
    `GHOST-${tag},Ghost team,ghost@nowhere.example`,
    `NONAME-${tag},,`,
    `GOOD2-${tag},Also good,${owner.email}`,
  ].join('\n');

  const { id, page } = await importThroughForm(csv, { dryRun: false, onInvalidRows: 'reject_file' });
  expect(page.html).toContain('refused: nothing was written');
  expect(reportLines(page.html, 2)).toEqual([['refused', 'ownerEmail', 'ghost@nowhere.example', 'no active person has this email']]);
  expect(reportLines(page.html, 3)).toEqual([['refused', 'name', '', expect.stringMatching(/required/)]]);
  expect(reportLines(page.html, 1)).toEqual([['would create', '', '', '']]);

  const refusedOnly = await browse(adminAgent, 'GET', `/ui/imports/${id}?filter=refused`);
  expect([1, 2, 3, 4].map((n) => reportLines(refusedOnly.html, n).length)).toEqual([0, 1, 1, 0]);

  expect(await db('cost_centres').whereIn('code', [`GOOD-${tag}`, `GOOD2-${tag}`, `GHOST-${tag}`, `NONAME-${tag}`]).count({ n: '*' })).toEqual([{ n: 0 }]);

  const reportHref = /href="(\/ui\/imports\/[^"]+\/report)"/.exec(page.html)![1];
  const report = await browse(adminAgent, 'GET', reportHref);
  expect(report.status).toBe(200);
  expect(report.headers.get('content-type')).toMatch(/^text\/csv/);
  expect(parse(report.html, { columns: true })).toEqual([
    { rowNumber: '2', column: 'ownerEmail', value: 'ghost@nowhere.example', reason: 'no active person has this email' },
    { rowNumber: '3', column: 'name', value: '', reason: expect.stringMatching(/required/) },
  ]);
});

it('shows an import under reject_file whose row was refused when written as not applied whole', async () => {
  const db = stack.database.db;
  const tag = unique();
  const trigger = `refuse_${tag.toLowerCase()}`;
  // A constraint the kind does not check: the row passes the check and is refused by the database when written.
  await db.raw(`
    CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.code = 'LATE-${tag}' THEN RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'check_violation'; END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER ${trigger} BEFORE INSERT ON cost_centres FOR EACH ROW EXECUTE FUNCTION ${trigger}()`);
  try {
    const { id, page } = await importThroughForm(`code,name
FIRST-${tag},First
LATE-${tag},Late
LAST-${tag},Last
`, { dryRun: false, onInvalidRows: 'reject_file' });
    expect(page.html).toMatch(/id="import-state">completed, but not whole: 1 row\(s\) refused when written <span class="meta">\(not applied whole: 1 row\(s\) passed the check but were refused when written/);
    expect(page.html).toMatch(/id="import-counts">3 in the file; 2 created, 1 refused/);
    expect(reportLines(page.html, 2)).toEqual([['refused', '(row)', '', expect.stringContaining('refused by the test')]]);
    expect(await db('cost_centres').whereIn('code', [`FIRST-${tag}`, `LATE-${tag}`, `LAST-${tag}`]).orderBy('code').pluck('code')).toEqual([`FIRST-${tag}`, `LAST-${tag}`]);
    const list = await browse(adminAgent, 'GET', '/ui/imports');
    expect(list.html).toMatch(new RegExp(`href="/ui/imports/${id}"(?:(?!</tr>)[\\s\\S])*<td>completed, but not whole: 1 row\\(s\\) refused when written</td>`));
    const form = await browse(adminAgent, 'GET', '/ui/imports/new');
    expect(form.html).toContain('If the check refuses any row, nothing is written');
    expect(form.html).toContain('the import then says it was not applied whole');
  } finally {
    await db.raw(`DROP TRIGGER ${trigger} ON cost_centres; DROP FUNCTION ${trigger}()`);
  }
});

it('names an unreadable header on the form again, and imports nothing', async () => {
  const before = await importsCount();
  const sent = await postMultipart(adminAgent, '/ui/imports', uploadParts({ token: csrf, fileName: 'cc.csv', content: 'code,colour\nX,red\n' }));
  expect(sent.status).toBe(400);
  expect(sent.html).toContain('Nothing was imported.');
  expect(sent.html).toContain('unknown column(s) &quot;colour&quot;');
  const noFormat = await postMultipart(adminAgent, '/ui/imports', uploadParts({ token: csrf, fileName: 'cost-centres.txt', content: 'code,name\nX,Y\n' }));
  expect(noFormat.status).toBe(400);
  expect(noFormat.html).toContain('Choose the format');
  expect(await importsCount()).toBe(before);
});

it('refuses a form without the session\'s token, or with the token after the file, and imports nothing', async () => {
  const before = await importsCount();
  const content = `code,name\nCSRF-${unique()},Forged\n`;
  const none = await postMultipart(adminAgent, '/ui/imports', uploadParts({ fileName: 'cc.csv', content }));
  expect(none.status).toBe(403);
  expect(none.html).toContain('Nothing was imported');
  const wrong = await postMultipart(adminAgent, '/ui/imports', uploadParts({ token: 'not-the-token', fileName: 'cc.csv', content }));
  expect(wrong.status).toBe(403);
  const late = await postMultipart(adminAgent, '/ui/imports', [...uploadParts({ fileName: 'cc.csv', content }), ['csrf', csrf]]);
  expect(late.status).toBe(403);
  // Another session's token is not this one's.
  const other = webAgent(stack.baseUrl);
  await signInWithKey(other, admin.apiKey);
  const otherCsrf = hiddenCsrf((await browse(other, 'GET', '/ui/imports/new')).html)!;
  expect((await postMultipart(adminAgent, '/ui/imports', uploadParts({ token: otherCsrf, fileName: 'cc.csv', content }))).status).toBe(403);
  expect(await importsCount()).toBe(before);
});

it('is not for requesters, and a kind is imported only by its writers', async () => {
  const before = await importsCount();
  const requester = await createPerson(stack.database.db, ['requester'], 'Remy Requester');
  const agent = webAgent(stack.baseUrl);
  await signInWithKey(agent, requester.apiKey);
  const requests = await browse(agent, 'GET', '/ui/my-requests');
  const token = hiddenCsrf(requests.html)!;
  expect(requests.html).not.toContain('href="/ui/imports"');
  expect((await browse(agent, 'GET', '/ui/imports')).status).toBe(403);
  expect((await browse(agent, 'GET', '/ui/imports/new')).status).toBe(403);
  expect((await postMultipart(agent, '/ui/imports', uploadParts({ token, fileName: 'cc.csv', content: 'code,name\nREQ,Requested\n' }))).status).toBe(403);

  const manager = await createPerson(stack.database.db, ['asset_manager'], 'Mona Manager');
  const managerAgent = webAgent(stack.baseUrl);
  await signInWithKey(managerAgent, manager.apiKey);
  const managerForm = await browse(managerAgent, 'GET', '/ui/imports/new');
  expect(managerForm.html).toContain('<li><a href="/ui/imports" aria-current="page">Imports</a></li>');
  const managerToken = hiddenCsrf(managerForm.html)!;
  const refused = await postMultipart(managerAgent, '/ui/imports', uploadParts({ token: managerToken, fileName: 'cc.csv', content: 'code,name\nMGR,Managed\n' }));
  expect(refused.status).toBe(403);
  expect(refused.html).toContain('Importing cost centres needs one of the roles: admin');
  expect(await importsCount()).toBe(before);

  const [{ id }] = await stack.database.db('imports').insert({
    kind: 'cost-centres', format: 'csv', dry_run: true, on_invalid_rows: 'reject_file', requested_by_id: admin.id,
  }).returning('id');
  expect((await browse(managerAgent, 'GET', `/ui/imports/${id}`)).status).toBe(403);
});

it('refreshes the page of a running import, politely: it says so and can be stopped', async () => {
  const [{ id }] = await stack.database.db('imports').insert({
    kind: 'cost-centres', format: 'csv', file_name: 'big.csv', dry_run: false, on_invalid_rows: 'skip_rows', requested_by_id: admin.id,
    state: 'checking', rows_total: 50_000, rows_checked: 12_000,
  }).returning('id');
  const running = await browse(adminAgent, 'GET', `/ui/imports/${id}`);
  expect(running.status).toBe(200);
  expect(running.headers.get('refresh')).toBe('5');
  expect(running.html).toContain('<progress id="progress-check" max="50000" value="12000">');
  const stopHref = /href="([^"]+refresh=off)"/.exec(running.html)![1];
  const stopped = await browse(adminAgent, 'GET', stopHref);
  expect(stopped.headers.get('refresh')).toBeNull();
  expect(stopped.html).toContain('checking rows');
});
