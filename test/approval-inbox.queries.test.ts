/**
 * The web inbox reads a page of approvals and what each is about in a fixed number of queries:
 * a full page costs what one card costs (no query per card, whatever the kinds on the page).
 */
import { randomBytes } from 'node:crypto';
import { SESSION_COOKIE, newSession } from '../api/web/session';
import { insertWebSession } from '../model/web-sessions';
import { createPerson, type TestPerson } from './support/fixtures';
import { startStack, type Stack } from './support/stack';

let stack: Stack;
let requester: TestPerson;
let costCentreId: string;
let vendorId: string;

const unique = () => randomBytes(4).toString('hex');

beforeAll(async () => {
  // No worker: the subjects are written directly, and only the API's queries are counted.
  stack = await startStack({ worker: false });
  const db = stack.database.db;
  requester = await createPerson(db, ['requester'], 'Rhea Requester');
  [{ id: costCentreId }] = await db('cost_centres').insert({ code: `CC${unique()}`, name: 'Platform' }).returning('id');
  [{ id: vendorId }] = await db('vendors').insert({ name: `Vendor ${unique()}` }).returning('id');
});

afterAll(async () => {
  await stack?.stop();
});

async function openChange(): Promise<{ id: string; workflowId: string }> {
  const workflowId = `change:test-${unique()}`;
  const [{ id }] = await stack.database.db('change_requests')
    .insert({ type: 'normal', state: 'authorize', requester_id: requester.id, title: `Patch the cluster ${unique()}`, workflow_id: workflowId })
    .returning('id');
  return { id, workflowId };
}

async function openPurchase(): Promise<{ id: string; workflowId: string }> {
  const db = stack.database.db;
  const workflowId = `purchase:test-${unique()}`;
  const [{ id }] = await db('purchase_requests')
    .insert({ state: 'authorize', requester_id: requester.id, cost_centre_id: costCentreId, justification: 'Laptops for the new team', currency: 'EUR', total_minor: 290_000, workflow_id: workflowId })
    .returning('id');
  await db('purchase_request_lines').insert([
    { purchase_request_id: id, line_number: 1, description: 'ThinkPad T14', quantity: 2, unit_price_minor: 140_000, vendor_id: vendorId },
    { purchase_request_id: id, line_number: 2, description: 'Docking station', quantity: 2, unit_price_minor: 5_000 },
  ]);
  return { id, workflowId };
}

/** An approver with open approvals on this many changes and purchase requests; answers the approval ids. */
async function approverOf(counts: { changes: number; purchases: number }): Promise<{ approver: TestPerson; approvalIds: string[] }> {
  const db = stack.database.db;
  const approver = await createPerson(db, ['approver'], `Ada Approver ${unique()}`);
  const subjects = [
    ...(await Promise.all(Array.from({ length: counts.changes }, async () => ({ type: 'change_request', ...(await openChange()) })))),
    ...(await Promise.all(Array.from({ length: counts.purchases }, async () => ({ type: 'purchase_request', ...(await openPurchase()) })))),
  ];
  const rows: { id: string }[] = await db('approvals')
    .insert(subjects.map((s) => ({ subject_type: s.type, subject_id: s.id, workflow_id: s.workflowId, step_order: 1, step_name: 'Manager', approver_id: approver.id })))
    .returning('id');
  return { approver, approvalIds: rows.map((r) => r.id) };
}

/** Renders the approver's inbox and counts the queries the API ran for it. */
async function inboxQueries({ approver, approvalIds }: { approver: TestPerson; approvalIds: string[] }): Promise<number> {
  const db = stack.database.db;
  const session = newSession();
  await insertWebSession(db, { idHash: session.idHash, personId: approver.id, csrf: session.csrf, expiresAt: session.expiresAt, signedInVia: 'demo' });
  let queries = 0;
  const count = () => {
    queries++;
  };
  db.on('query', count);
  let res: Response;
  let html: string;
  try {
    res = await fetch(`${stack.baseUrl}/ui/inbox`, { headers: { cookie: `${SESSION_COOKIE}=${session.id}` }, redirect: 'manual' });
    html = await res.text();
  } finally {
    db.removeListener('query', count);
  }
  expect(res.status).toBe(200);
  for (const id of approvalIds) expect(html).toContain(`id="approval-${id}"`);
  return queries;
}

it.each([
  ['changes', { changes: 1, purchases: 0 }, { changes: 6, purchases: 0 }],
  ['purchase requests', { changes: 0, purchases: 1 }, { changes: 0, purchases: 6 }],
  ['changes and purchase requests', { changes: 1, purchases: 1 }, { changes: 6, purchases: 6 }],
])('renders an inbox of %s in as many queries for many cards as for one', async (_kinds, few, many) => {
  const one = await inboxQueries(await approverOf(few));
  const page = await inboxQueries(await approverOf(many));
  expect(page).toBe(one);
});
