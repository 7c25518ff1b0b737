/**
 * The master-data engine through the JSON API, on cost centres: create by natural key (a second
 * create of the same code, in any letter case, is refused), update with If-Match (stale 412,
 * missing 428), a refused row names its column, retire keeps the record, export streams the
 * columns an import takes, and each write is audited with before and after.
 */
import { createPerson, type TestPerson } from './support/fixtures';
import { send, startStack, type Stack } from './support/stack';

let stack: Stack;
let admin: TestPerson;
let requester: TestPerson;
let owner: TestPerson;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  const db = stack.database.db;
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  requester = await createPerson(db, ['requester'], 'Remy Requester');
  owner = await createPerson(db, ['approver'], 'Otto Owner');
});

afterAll(async () => {
  await stack?.stop();
});

describe('cost centres through the master-data API', () => {
  it('creates one by its code, refuses a second with the same code in another case, and audits the values', async () => {
    const created = await send(stack, admin.apiKey, 'POST', '/cost-centres', { body: { code: 'md-ops', name: 'Operations', ownerEmail: owner.email.toUpperCase() } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ref: 'MD-OPS', code: 'MD-OPS', name: 'Operations', ownerEmail: owner.email, version: 1, retiredAt: null });
    expect(created.headers.get('etag')).toBe('"1"');
    expect(created.headers.get('location')).toBe('/cost-centres/MD-OPS');

    const again = await send(stack, admin.apiKey, 'POST', '/cost-centres', { body: { code: 'MD-ops', name: 'Other' } });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'already_exists', details: { ref: 'MD-OPS' } });

    const audit = await stack.database.db('audit_log').where({ subject_type: 'cost_centre', subject_id: created.body.id }).select('actor', 'action', 'details');
    expect(audit).toEqual([expect.objectContaining({ actor: admin.email, action: 'created', details: expect.objectContaining({ values: { code: 'MD-OPS', name: 'Operations', ownerEmail: owner.email } }) })]);
  });

  it('refuses a row whose owner is nobody, naming the column and the value, and writes nothing', async () => {
    const refused = await send(stack, admin.apiKey, 'POST', '/cost-centres', { body: { code: 'MD-NOBODY', name: 'Nobody', ownerEmail: 'ghost@nowhere.example' } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.problems).toEqual([{ column: 'ownerEmail', value: 'ghost@nowhere.example', reason: 'no active person has this email' }]);
    const unknown = await send(stack, admin.apiKey, 'POST', '/cost-centres', { body: { code: 'MD-X', name: 'X', budget: 5 } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.problems[0]).toMatchObject({ column: 'budget', value: 5 });
    expect(await stack.database.db('cost_centres').whereIn('code', ['MD-NOBODY', 'MD-X']).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('updates with If-Match: a stale version is 412, none is 428, the same values change nothing', async () => {
    await send(stack, admin.apiKey, 'POST', '/cost-centres', { body: { code: 'MD-DEV', name: 'Development' } });
    const noMatch = await send(stack, admin.apiKey, 'PATCH', '/cost-centres/md-dev', { body: { name: 'Engineering' } });
    expect(noMatch.status).toBe(428);
    const updated = await send(stack, admin.apiKey, 'PATCH', '/cost-centres/md-dev', { body: { name: 'Engineering', ownerEmail: owner.email }, headers: { 'if-match': '"1"' } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Engineering', ownerEmail: owner.email, version: 2 });
    expect(updated.headers.get('etag')).toBe('"2"');
    const stale = await send(stack, admin.apiKey, 'PATCH', '/cost-centres/MD-DEV', { body: { name: 'Lost update' }, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    const same = await send(stack, admin.apiKey, 'PATCH', '/cost-centres/MD-DEV', { body: { name: 'Engineering' }, headers: { 'if-match': '"2"' } });
    expect(same.body.version).toBe(2);
    const cleared = await send(stack, admin.apiKey, 'PATCH', '/cost-centres/MD-DEV', { body: { ownerEmail: null }, headers: { 'if-match': '"2"' } });
    expect(cleared.body).toMatchObject({ ownerEmail: null, version: 3 });
    const audit = await stack.database.db('audit_log').where({ subject_type: 'cost_centre', subject_id: updated.body.id, action: 'updated' }).orderBy('id').pluck('details');
    expect(audit.map((d) => d.changes)).toEqual([
      { name: { from: 'Development', to: 'Engineering' }, ownerEmail: { from: null, to: owner.email } },
      { ownerEmail: { from: owner.email, to: null } },
    ]);
  });

  it('lets only admins write, and retires a record without deleting it', async () => {
    const created = await send(stack, admin.apiKey, 'POST', '/cost-centres', { body: { code: 'MD-OLD', name: 'Old' } });
    expect((await send(stack, requester.apiKey, 'POST', '/cost-centres', { body: { code: 'MD-MINE', name: 'Mine' } })).status).toBe(403);
    expect((await send(stack, requester.apiKey, 'POST', '/cost-centres/MD-OLD/retire', { headers: { 'if-match': '"1"' } })).status).toBe(403);
    const retired = await send(stack, admin.apiKey, 'POST', '/cost-centres/MD-OLD/retire', { headers: { 'if-match': '"1"' } });
    expect(retired.status).toBe(200);
    expect(retired.body.retiredAt).toEqual(expect.any(String));
    expect(await stack.database.db('cost_centres').where({ id: created.body.id }).first('retired_at')).toEqual({ retired_at: expect.any(Date) });
    const twice = await send(stack, admin.apiKey, 'POST', '/cost-centres/MD-OLD/retire', { headers: { 'if-match': '"2"' } });
    expect(twice.status).toBe(409);
    const updateRetired = await send(stack, admin.apiKey, 'PATCH', '/cost-centres/MD-OLD', { body: { name: 'Back' }, headers: { 'if-match': '"2"' } });
    expect(updateRetired.status).toBe(400);
  });

  it('exports the live cost centres as CSV and JSON lines in the columns an import takes', async () => {
    await send(stack, admin.apiKey, 'POST', '/cost-centres', { body: { code: 'MD-CSV', name: 'Commas, "quotes" and more', ownerEmail: owner.email } });
    const csv = await send(stack, admin.apiKey, 'GET', '/cost-centres/export?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('code,name,ownerEmail');
    expect(lines).toContain(`MD-CSV,"Commas, ""quotes"" and more",${owner.email}`);
    expect(lines.some((line) => line.startsWith('MD-OLD,'))).toBe(false);
    const jsonl = await send(stack, admin.apiKey, 'GET', '/cost-centres/export?format=jsonl');
    const rows = jsonl.text.trim().split('\n').map((line) => JSON.parse(line));
    expect(rows).toContainEqual({ code: 'MD-CSV', name: 'Commas, "quotes" and more', ownerEmail: owner.email });
    expect((await send(stack, requester.apiKey, 'GET', '/cost-centres/export')).status).toBe(403);
  });
});
