/**
 * The demo's sample cloud bills (demo/finops/) go through POST /cost-imports as a user would send
 * them, into a database holding the demo company: the AWS and Azure bills with no refused row,
 * their totals equal to the files' to the last place, their resources found among the demo's
 * cloud CIs (a few new ones become CIs), their tags placing the cost; the third file's bad row is
 * its report. The demo's own cloud usage is each provider's bill of the month, loaded as its
 * import: a sample of the same provider, billing account and month replaces it, never adds to it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AWS_ACCOUNT, AZURE_BILLING_ACCOUNT } from '../demo/data/cloud';
import { loadDemoData } from '../demo/seed';
import { startStack, type Stack } from './support/stack';

const SAMPLES = path.join(__dirname, '..', 'demo', 'finops');
/** An asset manager of the demo: the key the README's curl lines use. */
const DEMO_KEY = 'af_demo_pieter_jansen';
/** The samples bill October 2026: the demo loaded on this day has its own bills of September to November. */
const DEMO_DAY = new Date('2026-11-29T09:00:00Z');
const SEPTEMBER = new Date('2026-09-01T00:00:00Z');
const OCTOBER = new Date('2026-10-01T00:00:00Z');

interface ImportAnswer {
  number: string;
  state: string;
  rowsTotal: number;
  rowsRefused: number;
  rowsImported: number;
  focusVersion: string;
  totals: { provider: string; currency: string; rows: number; billedCost: string }[];
}

async function send(stack: Stack, file: string, contentType: string): Promise<ImportAnswer> {
  const res = await fetch(`${stack.baseUrl}/cost-imports?fileName=${file}`, {
    method: 'POST', headers: { authorization: `Bearer ${DEMO_KEY}`, 'content-type': contentType }, body: readFileSync(path.join(SAMPLES, file)),
  });
  const answer = await res.json() as ImportAnswer;
  expect([res.status, answer]).toEqual([202, expect.objectContaining({ state: 'staged' })]);
  for (let waited = 0; waited < 60_000; waited += 250) {
    const read = await fetch(`${stack.baseUrl}/cost-imports/${answer.number}`, { headers: { authorization: `Bearer ${DEMO_KEY}` } });
    const current = await read.json() as ImportAnswer;
    if (current.state === 'completed' || current.state === 'failed') return current;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${answer.number} did not finish`);
}

describe('the demo sample cloud bills', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
    await loadDemoData(stack.database.db, () => {}, DEMO_DAY, { publicKeys: true });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** A provider's records of a billing account and month, by the import that wrote them (its file name), with their count and billed total. */
  const billOf = (provider: string, billingAccountId: string, month: Date) => stack.database.db('cost_records as r')
    .join('cost_imports as i', 'i.id', 'r.cost_import_id')
    .where({ 'r.provider_name': provider, 'r.billing_account_id': billingAccountId, 'r.billing_period_start': month })
    .groupBy('i.file_name').orderBy('i.file_name')
    .select('i.file_name as file', stack.database.db.raw('count(*)::int AS rows'), stack.database.db.raw('sum(r.billed_cost)::text AS billed'));

  it('imports the AWS bill (FOCUS 1.0, scientific notation, a credit) whole, onto the demo cloud CIs, in place of the demo bill of its month', async () => {
    const { db } = stack.database;
    const unscoped = await db('cost_records').whereIn('billing_account_id', [AWS_ACCOUNT, AZURE_BILLING_ACCOUNT]).whereNull('cost_import_id').count({ n: '*' }).first();
    expect(unscoped).toEqual({ n: 0 });
    const before = await billOf('AWS', AWS_ACCOUNT, OCTOBER);
    expect(before).toEqual([expect.objectContaining({ file: 'demo-aws-2026-10' })]);
    expect(before[0].rows).toBeGreaterThan(100);
    const september = await billOf('AWS', AWS_ACCOUNT, SEPTEMBER);
    expect(september).toEqual([expect.objectContaining({ file: 'demo-aws-2026-09' })]);

    const done = await send(stack, 'aws-focus-2026-10.csv', 'text/csv');
    expect(done).toMatchObject({ state: 'completed', focusVersion: '1.0', rowsTotal: 41, rowsRefused: 0, rowsImported: 41 });
    expect(done.totals).toEqual([expect.objectContaining({ provider: 'AWS', currency: 'EUR', rows: 41, billedCost: '3701.1923343795' })]);

    // October on AWS is the sample and only the sample, as a re-issued bill; the other months and Azure's October are the demo's still.
    expect(await billOf('AWS', AWS_ACCOUNT, OCTOBER)).toEqual([{ file: 'aws-focus-2026-10.csv', rows: 41, billed: '3701.1923343795' }]);
    expect(await db('cost_import_scopes').where({ provider_name: 'AWS', billing_account_id: AWS_ACCOUNT, billing_period_start: OCTOBER }).pluck('import_id'))
      .toEqual([(await db('cost_imports').where({ number: done.number }).first('id')).id]);
    expect(await billOf('AWS', AWS_ACCOUNT, SEPTEMBER)).toEqual(september);
    expect(await billOf('Microsoft', AZURE_BILLING_ACCOUNT, OCTOBER)).toEqual([expect.objectContaining({ file: 'demo-azure-2026-10' })]);

    const records = () => db('cost_records as r').join('cost_imports as i', 'i.id', 'r.cost_import_id').where('i.number', done.number);
    // 17 resources are the demo's own cloud CIs; 3 are new, made CIs by the import, with no owner yet.
    const resources = await records().clone().leftJoin('configuration_items as ci', 'ci.id', 'r.ci_id').whereNotNull('r.resource_id')
      .select('r.resource_name', 'ci.owner_id', 'ci.discovery_state').groupBy('r.resource_name', 'ci.owner_id', 'ci.discovery_state');
    expect(resources.filter((r) => r.owner_id !== null)).toHaveLength(17);
    expect(resources.filter((r) => r.owner_id === null).map((r) => r.resource_name).sort()).toEqual(['load-test-runner', 'ml-training-01', 'nw-athena-results']);
    const unplaced = await records().clone().whereNull('r.cost_centre_id').select('r.resource_name', 'r.charge_category');
    expect(unplaced.map((r) => r.resource_name ?? r.charge_category).sort()).toEqual([...Array(7).fill('load-test-runner'), 'Credit', 'Purchase'].sort());
    const lambda = await records().clone().where('r.billed_cost', '0.00000042').first('r.billed_cost');
    expect(lambda?.billed_cost).toBe('0.00000042');
  });

  it('imports the gzipped Azure bill whole, tags placing cost centres, applications and services, in place of the demo bill of its month', async () => {
    expect(await billOf('Microsoft', AZURE_BILLING_ACCOUNT, OCTOBER)).toEqual([expect.objectContaining({ file: 'demo-azure-2026-10' })]);
    const done = await send(stack, 'azure-focus-2026-10.csv.gz', 'application/gzip');
    expect(done).toMatchObject({ state: 'completed', focusVersion: '1.0', rowsTotal: 29, rowsRefused: 0, rowsImported: 29 });
    expect(done.totals).toEqual([expect.objectContaining({ provider: 'Microsoft', currency: 'EUR', rows: 29, billedCost: '3364.5493776541' })]);
    expect(await billOf('Microsoft', AZURE_BILLING_ACCOUNT, OCTOBER)).toEqual([{ file: 'azure-focus-2026-10.csv.gz', rows: 29, billed: '3364.5493776541' }]);
    const placed = await stack.database.db('cost_records as r').join('cost_imports as i', 'i.id', 'r.cost_import_id').where('i.number', done.number)
      .count({ cc: 'r.cost_centre_id', app: 'r.application_id', service: 'r.business_service_id' }).first();
    // Everything but the Defender plan and the credit carries a cost centre; 21 rows name their application.
    expect(placed).toEqual({ cc: 27, app: 21, service: 24 });
  });

  it('reports the bad row of the third file by row, column and reason, and imports the others', async () => {
    const done = await send(stack, 'focus-with-bad-rows.csv', 'text/csv');
    expect(done).toMatchObject({ state: 'completed', rowsTotal: 6, rowsRefused: 1, rowsImported: 5 });
    expect(done.totals).toEqual([expect.objectContaining({ provider: 'Google Cloud', billedCost: '43.3638582004' })]);
    const res = await fetch(`${stack.baseUrl}/cost-imports/${done.number}/refusals`, { headers: { authorization: `Bearer ${DEMO_KEY}` } });
    const report = await res.json() as { items: { rowNumber: number; problems: { column: string }[] }[] };
    expect(report.items).toEqual([expect.objectContaining({ rowNumber: 4 })]);
    expect(report.items[0].problems.map((p) => p.column).sort()).toEqual(['BilledCost', 'ChargeCategory', 'ChargePeriodEnd']);
  });
});
