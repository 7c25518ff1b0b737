/**
 * A real organisation brings its own estate, money and rules, on an empty database with no demo
 * data: the first administrator imports vendors and budgets from JSON lines, 500 assets, 1,000
 * configuration items and their relationships from CSV files, and saves the approval rules through
 * the API. A change to one imported server is then assessed from the imported service map (it
 * reaches the imported tier-1 service), routed by the saved rules to the imported service owner,
 * and approved through the emailed links; each approval names the rule version that routed it.
 * Importing the same files again changes nothing.
 */
import { runAdminCommand } from '../scripts/admin';
import { eventually } from './support/fixtures';
import { call, send, startStack, type Stack } from './support/stack';

let stack: Stack;
let adminKey: string;

const SERVICES = 10;
const APPLICATIONS = 90;
const SERVERS = 900;
const ASSETS = 500;
const MONTH = new Date().toISOString().slice(0, 7);

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

async function keyFor(email: string, name?: string): Promise<string> {
  const printed: string[] = [];
  const argv = name ? ['create-admin', '--email', email, '--name', name] : ['create-api-key', '--email', email, '--name', 'e2e'];
  expect(await runAdminCommand(argv, { db: stack.database.db, out: (line) => printed.push(line) })).toBe(0);
  return printed.join('\n').match(/\baf_[A-Za-z0-9_-]{20,}/)![0];
}

/** Uploads a file as an import and waits for the import workflow to finish it. */
async function importFile(kind: string, format: 'csv' | 'jsonl', content: string, options: { dryRun?: boolean } = {}) {
  const query = new URLSearchParams({ kind, format, dryRun: String(options.dryRun ?? false), fileName: `${kind}.${format}` });
  const started = await send(stack, adminKey, 'POST', `/imports?${query}`, {
    body: content, headers: { 'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson' },
  });
  expect(started.status).toBe(202);
  return eventually(async () => {
    const current = await call(stack, adminKey, 'GET', `/imports/${started.body.id}`);
    return ['completed', 'previewed', 'refused', 'failed'].includes(current.body.state) ? current.body : undefined;
  }, 120_000, 250);
}

const csv = (header: string[], rows: (string | number)[][]) => [header.join(','), ...rows.map((row) => row.join(','))].join('\n');
const jsonl = (rows: Record<string, unknown>[]) => rows.map((row) => JSON.stringify(row)).join('\n');

const serverName = (i: number) => `srv-${String(i).padStart(4, '0')}`;
const appName = (i: number) => `app-${String(i).padStart(3, '0')}`;
const serviceName = (i: number) => (i === 0 ? 'Payments' : `Service ${i}`);
const assetTag = (i: number) => `AST9${String(i).padStart(6, '0')}`;

/** The organisation's files, as its own tools would export them. */
function organisationFiles() {
  const vendors = jsonl([
    { code: 'ACME', name: 'Acme Servers', contactEmail: 'orders@acme.example', active: true },
    { code: 'NETCO', name: 'Netco Networks', contactEmail: 'sales@netco.example', active: true },
  ]);
  const budgets = jsonl([
    { costCentre: 'IT-OPS', month: MONTH, amountMinor: 50_000_000, currency: 'EUR' },
    { costCentre: 'IT-DEV', month: MONTH, amountMinor: 20_000_000, currency: 'EUR' },
  ]);
  const assets = csv(
    ['assetTag', 'serialNumber', 'manufacturer', 'model', 'state', 'substate', 'assignedToEmail', 'costCentre', 'purchaseCostMinor', 'currency', 'purchaseDate', 'warrantyEnd'],
    Array.from({ length: ASSETS }, (_, i) => [
      assetTag(i), `SN-E2E-${i}`, 'Acme', 'R740', i < 400 ? 'in_use' : 'in_stock', i < 400 ? '' : 'available',
      i < 400 ? 'olga.ops@example.org' : '', 'IT-OPS', 650_000, 'EUR', '2025-03-01', '2028-03-01',
    ]),
  );
  const cis = csv(
    ['name', 'ciClass', 'criticality', 'ownerEmail', 'costCentre', 'assetTag'],
    [
      ...Array.from({ length: SERVICES }, (_, i) => [serviceName(i), 'business_service', i === 0 ? 'tier_1' : 'tier_3', i === 0 ? 'sven.service@example.org' : 'olga.ops@example.org', 'IT-OPS', '']),
      ...Array.from({ length: APPLICATIONS }, (_, i) => [appName(i), 'application', '', 'olga.ops@example.org', 'IT-DEV', '']),
      ...Array.from({ length: SERVERS }, (_, i) => [serverName(i), 'server', '', 'olga.ops@example.org', 'IT-OPS', i < 400 ? assetTag(i) : '']),
    ],
  );
  // Each application runs on ten servers, and each service depends on nine applications.
  const relationships = csv(
    ['fromName', 'fromClass', 'type', 'toName', 'toClass'],
    [
      ...Array.from({ length: SERVERS }, (_, i) => [appName(Math.floor(i / 10)), 'application', 'runs_on', serverName(i), 'server']),
      ...Array.from({ length: APPLICATIONS }, (_, i) => [serviceName(Math.floor(i / 9)), 'business_service', 'depends_on', appName(i), 'application']),
    ],
  );
  return { vendors, budgets, assets, cis, relationships };
}

const linkIn = (text: string) => {
  const match = /(https?:\/\/\S+\/approvals\/[0-9a-f-]+\?token=\S+)/.exec(text);
  if (!match) throw new Error('no approval link in the email');
  return new URL(match[1]);
};

async function approveByLink(text: string) {
  const link = linkIn(text);
  const res = await fetch(`${link.origin}${link.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: link.searchParams.get('token')!, decision: 'approved', comment: 'fine' }).toString(),
  });
  expect(res.status).toBe(200);
}

it('imports an organisation into an empty database, routes a change on the imported data with the saved rules, and a second import changes nothing', async () => {
  const db = stack.database.db;
  expect(Number((await db('people').count({ n: '*' }))[0].n)).toBe(0);
  expect(Number((await db('configuration_items').count({ n: '*' }))[0].n)).toBe(0);

  // People, cost centres and the one hardware model, through the API.
  adminKey = await keyFor('ada.admin@example.org', 'Ada Admin');
  for (const person of [
    { email: 'carol.manager@example.org', name: 'Carol Manager', roles: ['approver'] },
    { email: 'sven.service@example.org', name: 'Sven Service', roles: ['approver'] },
    { email: 'olga.ops@example.org', name: 'Olga Ops', roles: ['asset_manager'] },
    { email: 'rahul.requester@example.org', name: 'Rahul Requester', managerEmail: 'carol.manager@example.org', roles: ['requester'] },
  ]) {
    expect((await call(stack, adminKey, 'POST', '/people', person)).status).toBe(201);
  }
  for (const costCentre of [{ code: 'IT-OPS', name: 'IT operations', ownerEmail: 'olga.ops@example.org' }, { code: 'IT-DEV', name: 'IT development' }]) {
    expect((await call(stack, adminKey, 'POST', '/cost-centres', costCentre)).status).toBe(201);
  }

  const files = organisationFiles();
  const vendors = await importFile('vendors', 'jsonl', files.vendors);
  expect(vendors).toMatchObject({ state: 'completed', rowsTotal: 2, counts: { created: 2 } });
  expect((await call(stack, adminKey, 'POST', '/catalogue/hardware-models', {
    manufacturer: 'Acme', name: 'R740', category: 'server', vendorCode: 'ACME', listPriceMinor: 650_000, currency: 'EUR',
    warrantyMonths: 36, usefulLifeMonths: 60, depreciationMethod: 'straight_line',
  })).status).toBe(201);
  const budgets = await importFile('budgets', 'jsonl', files.budgets);
  expect(budgets).toMatchObject({ state: 'completed', counts: { created: 2 } });

  // A dry run first: it says what would happen and writes nothing.
  const preview = await importFile('assets', 'csv', files.assets, { dryRun: true });
  expect(preview).toMatchObject({ state: 'previewed', rowsTotal: ASSETS, counts: { create: ASSETS } });
  expect(Number((await db('assets').count({ n: '*' }))[0].n)).toBe(0);

  const assets = await importFile('assets', 'csv', files.assets);
  expect(assets).toMatchObject({ state: 'completed', rowsTotal: ASSETS, counts: { created: ASSETS } });
  const cis = await importFile('configuration-items', 'csv', files.cis);
  expect(cis).toMatchObject({ state: 'completed', rowsTotal: SERVICES + APPLICATIONS + SERVERS, counts: { created: 1_000 } });
  const relationships = await importFile('ci-relationships', 'csv', files.relationships);
  expect(relationships).toMatchObject({ state: 'completed', counts: { created: SERVERS + APPLICATIONS } });
  expect(await db('assets').where({ asset_tag: assetTag(7) }).first('state', 'substate')).toEqual({ state: 'in_use', substate: null });

  // The rules, saved through the API.
  const manager = await call(stack, adminKey, 'POST', '/approval-rules', {
    process: 'change', stepOrder: 1, name: 'Manager', appliesWhen: {}, approverKind: 'manager', policy: 'any', onExpiry: 'reject',
  });
  expect(manager.status).toBe(201);
  const owners = await call(stack, adminKey, 'POST', '/approval-rules', {
    process: 'change', stepOrder: 2, name: 'Service owners', appliesWhen: { minCriticality: 'tier_1' }, approverKind: 'service_owner', policy: 'all', onExpiry: 'reject',
  });
  expect(owners.status).toBe(201);

  // A change to an imported server: its impact and routing come from the imported data.
  const rahulKey = await keyFor('rahul.requester@example.org');
  const found = await call(stack, rahulKey, 'GET', `/cis?q=${serverName(3)}`);
  expect(found.body.items).toEqual([expect.objectContaining({ name: serverName(3) })]);
  const submitted = await call(stack, rahulKey, 'POST', '/changes', {
    type: 'normal', title: 'Replace a disk in srv-0003', description: 'RAID member failed', affectedCiIds: [found.body.items[0].id],
  });
  expect(submitted.status).toBe(201);
  const { number, id } = submitted.body;

  const managerTask = await stack.sink.waitFor((m) => m.to.includes('carol.manager@example.org') && m.subject.startsWith('Approval needed') && m.subject.includes(number));
  const assessed = (await call(stack, adminKey, 'GET', `/changes/${id}`)).body;
  expect(assessed.impact.services.businessServices).toEqual([expect.objectContaining({ name: 'Payments', criticality: 'tier_1' })]);
  expect(assessed.impact.assets.behindCis).toEqual([expect.objectContaining({ assetTag: assetTag(3) })]);
  await approveByLink(managerTask.text);

  const ownerTask = await stack.sink.waitFor((m) => m.to.includes('sven.service@example.org') && m.subject.startsWith('Approval needed') && m.subject.includes(number));
  await approveByLink(ownerTask.text);
  const approved = await eventually(async () => {
    const change = (await call(stack, adminKey, 'GET', `/changes/${id}`)).body;
    return ['scheduled', 'implement'].includes(change.state) ? change : undefined;
  });
  expect(approved.approvals.map((a: { stepName: string; state: string }) => [a.stepName, a.state])).toEqual([['Manager', 'approved'], ['Service owners', 'approved']]);
  const routedBy = await db('approvals').where({ subject_id: id }).orderBy('step_order').select('step_name', 'rule_id', 'rule_version');
  expect(routedBy).toEqual([
    { step_name: 'Manager', rule_id: manager.body.id, rule_version: 1 },
    { step_name: 'Service owners', rule_id: owners.body.id, rule_version: 1 },
  ]);

  // The same files again: everything unchanged, nothing written but the imports' own records.
  const recordWrites = async () => Number((await db('audit_log').whereNot('subject_type', 'import').count({ n: '*' }))[0].n);
  const auditRows = await recordWrites();
  for (const [kind, format, content, total] of [
    ['vendors', 'jsonl', files.vendors, 2], ['budgets', 'jsonl', files.budgets, 2], ['assets', 'csv', files.assets, ASSETS],
    ['configuration-items', 'csv', files.cis, 1_000], ['ci-relationships', 'csv', files.relationships, SERVERS + APPLICATIONS],
  ] as const) {
    expect(await importFile(kind, format, content)).toMatchObject({ state: 'completed', counts: { unchanged: total } });
  }
  expect(await recordWrites()).toBe(auditRows);
}, 240_000);
