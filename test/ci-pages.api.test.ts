/**
 * The CI pages and the service map through the web UI: a CI's page shows its relationships both
 * ways, the asset behind it, the changes that name it and its neighbourhood map with links; the
 * list finds CIs by the business service they serve; a change's impact map lists the CIs its
 * assessment reached, by depth, up to the business service, as a picture and as a table, a page of
 * rows at a time; someone who may not see the change gets a 403 page, and a CI's page lists only
 * the changes its viewer may see.
 */
import { randomBytes } from 'node:crypto';
import { createApprovalRule, createAsset, createCi, createPerson, eventually, relate, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';
import { browse, signInWithKey, webAgent, type WebAgent } from './support/web-agent';
import { IMPACT_ROWS_PER_PAGE } from '../api/web/ci-pages';

let stack: Stack;
let manager: TestPerson;
let requester: TestPerson;
let stranger: TestPerson;
let assetManager: TestPerson;
let agent: WebAgent;

const unique = () => randomBytes(3).toString('hex');

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  manager = await createPerson(db, ['approver'], 'Mia Manager');
  requester = await createPerson(db, ['requester'], 'Cora Requester', { managerId: manager.id });
  stranger = await createPerson(db, ['requester'], 'Stan Stranger');
  assetManager = await createPerson(db, ['asset_manager'], 'Asa Assets');
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  agent = webAgent(stack.baseUrl);
  expect((await signInWithKey(agent, requester.apiKey)).status).toBe(303);
});

afterAll(async () => {
  await stack?.stop();
});

/** server <- vm (hosted on) <- app (runs on) <- service (depends on); the server backed by an asset. */
async function smallEstate() {
  const db = stack.database.db;
  const tag = unique();
  const asset = await createAsset(db, { state: 'in_use', assignedToId: requester.id });
  const server = await createCi(db, { name: `srv-${tag}`, ciClass: 'server', assetId: asset.id });
  const vm = await createCi(db, { name: `vm-${tag}`, ciClass: 'virtual_machine' });
  const app = await createCi(db, { name: `payroll-app-${tag}`, ciClass: 'application' });
  const service = await createCi(db, { name: `Payroll ${tag}`, ciClass: 'business_service', criticality: 'tier_1' });
  const storage = await createCi(db, { name: `san-${tag}`, ciClass: 'storage' });
  await relate(db, vm.id, 'hosted_on', server.id);
  await relate(db, app.id, 'runs_on', vm.id);
  await relate(db, service.id, 'depends_on', app.id);
  await relate(db, server.id, 'uses', storage.id);
  return { tag, asset, server, vm, app, service, storage };
}

async function signedIn(person: TestPerson): Promise<WebAgent> {
  const other = webAgent(stack.baseUrl);
  expect((await signInWithKey(other, person.apiKey)).status).toBe(303);
  return other;
}

/** The impact table's rows: each CI's number, its depth and what it was reached through. */
const tableRows = (html: string) => [...html.matchAll(/<tr(?: id="[^"]+")?><th scope="row"><a href="\/ui\/cis\/([^"]+)">[^<]*<\/a>[\s\S]*?<td class="num">(-?\d+)<\/td><td>([\s\S]*?)<\/td>/g)]
  .map(([, number, depth, through]) => ({ number, depth: Number(depth), through }));

async function submitChange(affectedCiIds: string[], title: string) {
  const { status, body } = await call(stack, requester.apiKey, 'POST', '/changes', { type: 'normal', title, affectedCiIds });
  expect(status).toBe(201);
  // The map follows the depth of the stored assessment: wait until it is there.
  await eventually(async () => (await stack.database.db('change_requests').where({ id: body.id }).first('impact'))?.impact as unknown);
  return body as { id: string; number: string };
}

it('shows a CI with its relationships both ways, the asset behind it, the changes naming it and its neighbourhood map', async () => {
  const estate = await smallEstate();
  const change = await submitChange([estate.server.id], `Patch ${estate.server.name}`);

  const page = await browse(agent, 'GET', `/ui/cis/${estate.server.name}`);
  expect(page.status).toBe(200);
  const { html } = page;
  expect(html).toContain('<h1>');
  expect(html).toContain(estate.server.number);
  // What depends on it (the vm) and what it depends on (the storage), each with its type and a link.
  expect(html).toMatch(new RegExp(`What depends on ${estate.server.name} \\(1\\)`));
  expect(html).toContain(`href="/ui/cis/${estate.vm.number}"`);
  expect(html).toContain('hosted on');
  expect(html).toContain(`href="/ui/cis/${estate.storage.number}"`);
  expect(html).toContain('uses');
  // The asset behind it and the change naming it.
  expect(html).toContain(`href="/ui/assets/${estate.asset.assetTag}"`);
  expect(html).toContain(`href="/ui/changes/${change.number}"`);
  // The neighbourhood map: an accessible SVG whose boxes link to the CIs' pages, and the link to the bigger map.
  expect(html).toMatch(/<svg[^>]* role="group" aria-labelledby="neighbourhood-title neighbourhood-desc"/);
  expect(html).toContain(`<a href="/ui/cis/${estate.vm.number}" class="node">`);
  expect(html).toContain(`<a href="/ui/cis/${estate.storage.number}" class="node">`);
  expect(html).toContain(`href="/ui/cis/${estate.server.number}/map"`);

  // By id and by number too; an unknown one is a 404 page.
  expect((await browse(agent, 'GET', `/ui/cis/${estate.server.id}`)).status).toBe(200);
  expect((await browse(agent, 'GET', `/ui/cis/${estate.server.number}`)).status).toBe(200);
  expect((await browse(agent, 'GET', `/ui/cis/no-such-ci-${estate.tag}`)).status).toBe(404);

  // The bigger map, two relationships away, reaches the application; three reach the service.
  const two = await browse(agent, 'GET', `/ui/cis/${estate.server.number}/map?depth=2`);
  expect(two.status).toBe(200);
  expect(two.html).toContain(`<a href="/ui/cis/${estate.app.number}" class="node">`);
  expect(two.html).not.toContain(`<a href="/ui/cis/${estate.service.number}" class="node">`);
  const three = await browse(agent, 'GET', `/ui/cis/${estate.server.number}/map?depth=3`);
  expect(three.html).toContain(`<a href="/ui/cis/${estate.service.number}" class="node">`);
});

it('finds CIs by the business service they serve, and by class and name', async () => {
  const estate = await smallEstate();
  const byService = await browse(agent, 'GET', `/ui/cis?service=${estate.service.id}`);
  expect(byService.status).toBe(200);
  for (const ci of [estate.app, estate.vm, estate.server, estate.storage]) expect(byService.html).toContain(`href="/ui/cis/${ci.number}"`);
  expect(byService.html).toContain('4 CIs the service depends on');
  const byClass = await browse(agent, 'GET', `/ui/cis?q=${estate.tag}&class=application`);
  expect(byClass.html).toContain(`href="/ui/cis/${estate.app.number}"`);
  expect(byClass.html).not.toContain(`href="/ui/cis/${estate.server.number}"`);
});

it("lists a change's impact by depth up to the business service, as a picture and as a table, for those who may see the change", async () => {
  const estate = await smallEstate();
  const change = await submitChange([estate.server.id], `Replace the disks of ${estate.server.name}`);

  const page = await browse(agent, 'GET', `/ui/changes/${change.number}/impact-map`);
  expect(page.status).toBe(200);
  const { html } = page;
  expect(/<dd id="cis-reached">(\d+)/.exec(html)?.[1]).toBe('4');
  expect(/<dd id="services-reached">([\s\S]*?)<\/dd>/.exec(html)?.[1]).toContain(estate.service.name);
  // The table: each reached CI at its depth, reached through the one before it.
  const rows = tableRows(html);
  expect(rows.map((r) => [r.number, r.depth])).toEqual([
    [estate.server.number, 0], [estate.vm.number, 1], [estate.app.number, 2], [estate.service.number, 3],
  ]);
  expect(rows[1].through).toContain(estate.server.number);
  expect(rows[3].through).toContain(estate.app.number);
  // The picture: the changed CI is marked, every box links to its CI, edges carry arrowheads.
  expect(html).toMatch(/<svg[^>]* role="group" aria-labelledby="impact-title impact-desc"/);
  expect(html).toContain('CHANGED');
  for (const ci of [estate.server, estate.vm, estate.app, estate.service]) expect(html).toContain(`<a href="/ui/cis/${ci.number}" class="node">`);
  expect(html.match(/class="edge"/g)?.length).toBe(3);
  expect(html).toContain('marker-end="url(#impact-arrow)"');

  // The table alone.
  const table = await browse(agent, 'GET', `/ui/changes/${change.number}/impact-map?view=table`);
  expect(table.status).toBe(200);
  expect(table.html).not.toContain('<svg xmlns');
  expect(table.html).toContain(`href="/ui/cis/${estate.service.number}"`);

  // Every row fits one page: no depth list, no pager.
  expect(html).toContain(`<caption>Every CI ${change.number} reaches, by depth</caption>`);
  expect(html).not.toContain('id="table-depths"');
  expect(html).not.toContain('class="pager"');

  // Someone who neither requested nor approves it gets a 403 page; an unknown change a 404 page.
  expect((await browse(await signedIn(stranger), 'GET', `/ui/changes/${change.number}/impact-map`)).status).toBe(403);
  expect((await browse(agent, 'GET', '/ui/changes/CHG9999999/impact-map')).status).toBe(404);
});

it('pages the impact table: the picture and the table alone list the same rows, and each depth links to where it starts', async () => {
  const estate = await smallEstate();
  const change = await submitChange([estate.server.id], `Move ${estate.server.name}`);
  expect(IMPACT_ROWS_PER_PAGE).toBeGreaterThan(4);
  const base = `/ui/changes/${change.number}/impact-map`;

  // Two rows a page: the server and the vm, then the application and the service.
  const first = await browse(agent, 'GET', `${base}?limit=2`);
  expect(first.status).toBe(200);
  expect(tableRows(first.html).map((r) => r.number)).toEqual([estate.server.number, estate.vm.number]);
  expect(first.html).toContain(`<caption>Every CI ${change.number} reaches, by depth: 1 to 2 of 4</caption>`);
  // The picture still draws every reached CI.
  for (const ci of [estate.server, estate.vm, estate.app, estate.service]) expect(first.html).toContain(`<a href="/ui/cis/${ci.number}" class="node">`);
  const depths = /<nav aria-label="Depths in the table" id="table-depths">([\s\S]*?)<\/nav>/.exec(first.html)![1];
  expect(depths).toContain('<a href="#depth-0">Depth 0</a>: 1 CI');
  expect(depths).toContain(`<a href="${base}?limit=2&amp;offset=2#depth-3">Depth 3</a>: 1 CI`);
  expect(first.html).toMatch(/<nav class="pager" aria-label="Pages"><span>1–2 of 4<\/span><a href="[^"]*offset=2[^"]*" rel="next">/);

  const second = await browse(agent, 'GET', `${base}?limit=2&offset=2`);
  expect(tableRows(second.html).map((r) => [r.number, r.depth])).toEqual([[estate.app.number, 2], [estate.service.number, 3]]);
  // What a row was reached through is named even when that CI is on another page.
  expect(tableRows(second.html)[0].through).toContain(estate.vm.number);
  expect(second.html).toContain('<a href="#depth-3">Depth 3</a>');

  // The table alone on the same page lists the same rows, and its links keep it the table alone.
  const alone = await browse(agent, 'GET', `${base}?view=table&limit=2&offset=2`);
  expect(alone.html).not.toContain('<svg xmlns');
  expect(tableRows(alone.html)).toEqual(tableRows(second.html));
  expect(alone.html).toContain(`<a href="${base}?view=table&amp;limit=2#depth-0">Depth 0</a>`);
  expect(alone.html).toContain(`<a href="${base}?limit=2&amp;offset=2">Show the picture with the table</a>`);

  // An offset past the end shows the last page.
  expect(tableRows((await browse(agent, 'GET', `${base}?limit=2&offset=99`)).html).map((r) => r.number)).toEqual([estate.app.number, estate.service.number]);
});

it("lists on a CI's page only the changes its viewer requested or approves, every one to an overseer", async () => {
  const estate = await smallEstate();
  const title = `Firmware of ${estate.server.name}`;
  const change = await submitChange([estate.server.id], title);
  await eventually(async () => stack.database.db('approvals').where({ subject_id: change.id, approver_id: manager.id }).first('id'));
  const path = `/ui/cis/${estate.server.number}`;

  const seen = async (viewer: WebAgent) => {
    const page = await browse(viewer, 'GET', path);
    expect(page.status).toBe(200);
    return page.html.includes(`href="/ui/changes/${change.number}"`) && page.html.includes(title);
  };
  expect(await seen(agent)).toBe(true);
  expect(await seen(await signedIn(manager))).toBe(true);
  expect(await seen(await signedIn(assetManager))).toBe(true);

  // A stranger sees the CI, not the change: its number, title, state and window stay out of the page.
  const strangers = await browse(await signedIn(stranger), 'GET', path);
  expect(strangers.status).toBe(200);
  expect(strangers.html).toContain(estate.server.number);
  expect(strangers.html).not.toContain(change.number);
  expect(strangers.html).not.toContain(title);
  expect(strangers.html).toContain('Only the changes you requested or are asked to approve are listed.');
  expect(strangers.html).toContain('None of your changes names this CI.');
});
