/**
 * A schema-driven fuzzer: requests generated from the API's own OpenAPI document (fast-check, a
 * fixed seed, a fixed number per operation), valid and invalid bodies, path ids and query strings,
 * sent with valid keys of every role against real data. For every answer: no 5xx; a refused
 * request (4xx) writes nothing: the content of every table, fingerprinted before and after, is
 * unchanged (a row inserted, updated or deleted anywhere changes it); and a submission accepted
 * with 202 is registered by the running worker, not lost.
 */
import fc from 'fast-check';
import type { Knex } from 'knex';
import { createApprovalRule, createAsset, createCi, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';

const SEED = 20261129;
const REQUESTS_PER_OPERATION = 30;
/** Bookkeeping that a refused request is meant to write: the throttle counts failures (api/rate-limits). */
// Bookkeeping a refusal is meant to write: throttle counters, and the Idempotency-Key a command
// was sent with (it stays bound to that request, so a retry with another body is recognised).
const NOT_BUSINESS_DATA = new Set(['knex_migrations', 'knex_migrations_lock', 'rate_limits', 'idempotency_keys']);
/**
 * Columns that are bookkeeping too: when a key was last used, written (at most once a minute, after
 * the request) for every call its key was allowed to make, whatever the answer.
 */
const BOOKKEEPING_COLUMNS: Record<string, string> = { api_keys: 'last_used_at' };

type JsonSchema = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  parameters: { name: string; in: 'path' | 'query'; required: boolean; schema: JsonSchema }[];
  body?: JsonSchema;
}
interface FuzzRequest {
  role: string;
  url: string;
  idempotencyKey?: string;
  body?: { contentType: string; text: string };
}

let stack: Stack;
let people: Record<string, TestPerson>;
/** Real ids and business numbers: any uuid field, the fields named after what they refer to, and path parameters. */
let ids: { uuid: string[]; byField: Record<string, string[]>; byPath: Record<string, string[]> };
let fingerprintSql: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every table's row count and a hash of its rows' text, in one statement. */
async function fingerprint(db: Knex): Promise<Map<string, string>> {
  const { rows } = await db.raw(fingerprintSql);
  return new Map(rows.map((r: { t: string; n: string; h: string }) => [r.t, `${r.n}/${r.h}`]));
}

const changedTables = (before: Map<string, string>, after: Map<string, string>) =>
  [...new Set([...before.keys(), ...after.keys()])].filter((t) => before.get(t) !== after.get(t));

/** Waits until the workflows a successful write started have settled: the fingerprint holds still. */
async function quiescent(db: Knex): Promise<Map<string, string>> {
  let last = await fingerprint(db);
  const deadline = Date.now() + 20_000;
  for (let still = 0; still < 2 && Date.now() < deadline;) {
    await sleep(100);
    const next = await fingerprint(db);
    still = changedTables(last, next).length === 0 ? still + 1 : 0;
    last = next;
  }
  return last;
}

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  const { rows: tables } = await db.raw(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
  fingerprintSql = tables
    .map((r: { tablename: string }) => r.tablename)
    .filter((t: string) => !NOT_BUSINESS_DATA.has(t))
    .map((t: string) => {
      const row = BOOKKEEPING_COLUMNS[t] ? `(to_jsonb(x) - '${BOOKKEEPING_COLUMNS[t]}')::text` : 'x::text';
      return `SELECT '${t}' AS t, count(*) AS n, coalesce(sum(hashtext(${row})::bigint), 0) AS h FROM "${t}" x`;
    })
    .join(' UNION ALL ');

  const manager = await createPerson(db, ['approver'], 'Mia Manager');
  people = {
    requester: await createPerson(db, ['requester'], 'Rob Requester', { managerId: manager.id }),
    approver: manager,
    asset_manager: await createPerson(db, ['asset_manager'], 'Ada Assets'),
    process_owner: await createPerson(db, ['process_owner'], 'Pat Process'),
    admin: await createPerson(db, ['admin'], 'Al Admin'),
  };
  await createApprovalRule(db, { stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  await createApprovalRule(db, { process: 'procurement', stepOrder: 1, name: 'Manager', approverKind: 'manager' });
  const [{ id: vendorId }] = await db('vendors').insert({ name: 'Fuzz Supplies', contact_email: 'orders@fuzz.example', active: true }).returning('id');
  const modelId = await createHardwareModel(db, { vendor_id: vendorId, list_price_minor: 90_000 });
  const [{ id: productId }] = await db('software_products')
    .insert({ publisher: 'Fuzz', name: 'Fuzz Office', vendor_id: vendorId, licence_metric: 'per_user', unit_price_minor: 12_000, currency: 'EUR' })
    .returning('id');
  const [{ id: costCentreId }] = await db('cost_centres').insert({ code: 'CC-FUZZ', name: 'Fuzzing', owner_id: people.process_owner.id }).returning('id');
  await db('budgets').insert({ cost_centre_id: costCentreId, period_start: `${new Date().toISOString().slice(0, 7)}-01`, amount_minor: 100_000_000, currency: 'EUR' });
  const [{ id: changeModelId }] = await db('change_models').insert({ name: 'Fuzz patching', description: 'patches', risk_ceiling: 'moderate' }).returning('id');
  const cis = [await createCi(db, { ciClass: 'server' }), await createCi(db, { ciClass: 'application' })];
  const assets = [await createAsset(db, { state: 'in_stock' }), await createAsset(db, { state: 'in_use', assignedToId: people.requester.id })];

  const submitted = async (path: string, body: unknown) => {
    const res = await call(stack, people.requester.apiKey, 'POST', path, body);
    if (res.status !== 201) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    const approvalId = await eventually(async () => (await db('approvals').where({ subject_id: res.body.id }).first())?.id);
    return { ...(res.body as { id: string; number: string; workflowId: string }), approvalId: approvalId as string };
  };
  const change = await submitted('/changes', { type: 'normal', title: 'Patch the fuzzing server', affectedCiIds: [cis[0].id] });
  const purchaseLine = { hardwareModelId: modelId, quantity: 1 };
  const purchase = await submitted('/purchase-requests', { costCentre: 'CC-FUZZ', justification: 'a spare laptop', lines: [purchaseLine] });
  const ordered = await submitted('/purchase-requests', { costCentre: 'CC-FUZZ', justification: 'a laptop to receive', lines: [purchaseLine] });
  const decided = await call(stack, manager.apiKey, 'POST', `/purchase-requests/${ordered.id}/approvals/${ordered.approvalId}/decision`, { decision: 'approved' });
  if (decided.status !== 200) throw new Error(`approving ${ordered.number} answered ${decided.status}`);
  const orderId: string = await eventually(async () => (await db('purchase_orders').where({ purchase_request_id: ordered.id }).first())?.id);
  const delegation = await call(stack, manager.apiKey, 'POST', '/delegations', {
    delegateId: people.process_owner.id, startsAt: new Date(Date.now() + 86_400_000).toISOString(), endsAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
  });
  if (delegation.status !== 201) throw new Error(`POST /delegations answered ${delegation.status}: ${JSON.stringify(delegation.body)}`);

  const personIds = [...Object.values(people).map((p) => p.id)];
  const lineIds = (await db('purchase_request_lines').where({ purchase_request_id: ordered.id }).select('id')).map((l) => l.id as string);
  ids = {
    uuid: [
      ...personIds, ...cis.map((c) => c.id), ...assets.map((a) => a.id), modelId, productId, vendorId, changeModelId,
      change.id, purchase.id, ordered.id, orderId, change.approvalId, purchase.approvalId, delegation.body.id, ...lineIds,
    ],
    byField: {
      affectedCiIds: cis.map((c) => c.id), assetId: assets.map((a) => a.id), productId: [productId], softwareProductId: [productId],
      hardwareModelId: [modelId], vendorId: [vendorId], changeModelId: [changeModelId], lineId: lineIds,
      delegateId: personIds, assignedToId: personIds, managedById: personIds, requester: personIds, waitingFor: personIds,
      costCentre: ['CC-FUZZ'], currency: ['EUR'],
    },
    byPath: {
      '/assets': [...assets.map((a) => a.id), ...assets.map((a) => a.assetTag)],
      '/changes': [change.id, change.number],
      '/purchase-requests': [purchase.id, purchase.number, ordered.id, ordered.number],
      '/purchase-orders': [orderId],
      '/delegations': [delegation.body.id],
      '/approvals': [change.approvalId, purchase.approvalId],
      '/processes': [change.workflowId, purchase.workflowId, ordered.workflowId],
      approvalId: [change.approvalId, purchase.approvalId],
    },
  };
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const JUNK_IDS = ['00000000-0000-0000-0000-000000000000', 'not-an-id', 'CHG9999999', 'PR0000000', 'AST0000000', '-1', '1e309', "' OR 1=1 --", 'x'.repeat(300), 'üñï', '..', 'change:', 'change:CHG0000000'];
const JUNK_VALUES: unknown[] = [null, true, -1, 0, 1.5, 2 ** 63, -(2 ** 63), '', ' ', 'x'.repeat(5000), '\u0000', [], {}, [null], { $ne: 1 }];

/** Valid values from a JSON schema (zod's, so a small dialect), with real ids for uuids. */
function fromSchema(schema: JsonSchema | undefined, depth = 0, field = ''): fc.Arbitrary<unknown> {
  if (!schema || depth > 6) return fc.constant(undefined);
  const known = ids.byField[field];
  if (known && (schema.type === 'string' || schema.format === 'uuid')) return fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...known) }, fromSchema(schema, depth));
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((s: JsonSchema) => fromSchema(s, depth + 1, field)));
  if (Array.isArray(schema.allOf)) return fromSchema(Object.assign({}, ...schema.allOf), depth + 1, field);
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  switch (type) {
    case 'string': {
      if (schema.format === 'uuid') return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ids.uuid) }, fc.uuid());
      if (schema.format === 'date-time') {
        return fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
      }
      if (schema.format === 'date') return fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
      if (schema.format === 'email') return fc.emailAddress();
      if (typeof schema.pattern === 'string') return fc.stringMatching(new RegExp(schema.pattern));
      const minLength = schema.minLength ?? 0;
      const maxLength = Math.min(schema.maxLength ?? 60, minLength + 40);
      return fc.oneof(
        { weight: 4, arbitrary: fc.string({ minLength, maxLength }) },
        fc.string({ minLength, maxLength, unit: 'binary' }),
        fc.constantFrom('CC-FUZZ', 'EUR', 'laptop', 'in_stock', 'authorize'),
      );
    }
    case 'integer':
    case 'number': {
      const min = Math.max(schema.minimum ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER);
      const max = Math.min(schema.maximum ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      const bounds = fc.constantFrom(min, max);
      return type === 'integer' ? fc.oneof(bounds, fc.integer({ min, max })) : fc.oneof(bounds, fc.double({ min, max, noNaN: true }));
    }
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(fromSchema(schema.items, depth + 1, field), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, (schema.minItems ?? 0) + 3) });
    case 'object': {
      const properties: Record<string, JsonSchema> = schema.properties ?? {};
      const model = Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, fromSchema(s, depth + 1, name)]));
      return fc.record(model, { requiredKeys: (schema.required ?? []) as string[] });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A valid body, or one broken the ways clients break them. */
function bodyFor(schema: JsonSchema): fc.Arbitrary<{ contentType: string; text: string }> {
  const json = (value: unknown) => ({ contentType: 'application/json', text: JSON.stringify(value) ?? 'null' });
  const valid = fromSchema(schema) as fc.Arbitrary<Record<string, unknown>>;
  const keys = Object.keys(schema.properties ?? {});
  return fc.oneof(
    { weight: 6, arbitrary: valid.map(json) },
    { weight: 2, arbitrary: fc.tuple(valid, fc.constantFrom(...(keys.length ? keys : ['x']))).map(([v, key]) => json(Object.fromEntries(Object.entries(v ?? {}).filter(([k]) => k !== key)))) },
    { weight: 3, arbitrary: fc.tuple(valid, fc.constantFrom(...(keys.length ? keys : ['x'])), fc.constantFrom(...JUNK_VALUES)).map(([v, key, junk]) => json({ ...(v ?? {}), [key]: junk })) },
    fc.tuple(valid, fc.string({ minLength: 1, maxLength: 12 })).map(([v, key]) => json({ ...(v ?? {}), [key]: 1 })),
    fc.constantFrom(...JUNK_VALUES).map(json),
    fc.constantFrom('{"decision":', 'not json', '{"a":1}}', '\u0000').map((text) => ({ contentType: 'application/json', text })),
    valid.map((v) => ({ contentType: 'text/plain', text: JSON.stringify(v) ?? '' })),
    valid.map((v) => ({ contentType: 'application/x-www-form-urlencoded', text: new URLSearchParams(Object.entries(v ?? {}).map(([k, x]): [string, string] => [k, typeof x === 'string' ? x : JSON.stringify(x) ?? ''])).toString() })),
  );
}

function pathValue(operation: Operation, name: string): fc.Arbitrary<string> {
  const prefix = `/${operation.path.split('/')[1]}`;
  const real = name === 'id' || name === 'workflowId' ? ids.byPath[prefix] : ids.byPath[name];
  const junk = fc.oneof(fc.constantFrom(...JUNK_IDS), fc.uuid(), fc.string({ minLength: 1, maxLength: 40 })).map(encodeURIComponent);
  // Malformed percent-encoding, sent as it is.
  const raw = fc.constantFrom('%E0%A4%A', '%', '%00', '%2e%2e');
  return real?.length ? fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...real).map(encodeURIComponent) }, { weight: 3, arbitrary: junk }, raw) : fc.oneof(junk, raw);
}

function queryValue(name: string, schema: JsonSchema): fc.Arbitrary<string> {
  // Bounded: a valid wait would hold the request for up to a minute.
  const valid = name === 'waitSeconds' ? fc.integer({ min: 0, max: 1 }) : fromSchema(schema, 0, name);
  return fc.oneof(
    { weight: 5, arbitrary: valid.map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')) },
    fc.constantFrom('', '-1', 'null', 'true', '1e400', 'x'.repeat(500), '%', ',', 'implement,,closed', '\u0000'),
  );
}

function requestsFor(operation: Operation): fc.Arbitrary<FuzzRequest> {
  const pathParams = operation.parameters.filter((p) => p.in === 'path');
  const queryParams = operation.parameters.filter((p) => p.in === 'query');
  const path = fc.tuple(...pathParams.map((p) => pathValue(operation, p.name))).map((values) =>
    pathParams.reduce((url, p, i) => url.replace(`{${p.name}}`, values[i]), operation.path));
  const query = fc.record(
    Object.fromEntries(queryParams.map((p) => [p.name, queryValue(p.name, p.schema)])),
    { requiredKeys: queryParams.filter((p) => p.required).map((p) => p.name) },
  ).map((q) => {
    const search = new URLSearchParams(q as Record<string, string>).toString();
    return search ? `?${search}` : '';
  });
  return fc.record({
    role: fc.constantFrom(...Object.keys(people)),
    url: fc.tuple(path, query).map(([p, q]) => p + q),
    idempotencyKey: fc.option(fc.constantFrom('fuzz-1', 'fuzz-2'), { nil: undefined }),
    body: operation.body ? bodyFor(operation.body) : fc.constant(undefined),
  }, { requiredKeys: ['role', 'url'] });
}

async function send(operation: Operation, request: FuzzRequest): Promise<{ status: number; text: string }> {
  const res = await fetch(`${stack.baseUrl}${request.url}`, {
    method: operation.method.toUpperCase(),
    headers: {
      authorization: `Bearer ${people[request.role].apiKey}`,
      ...(request.body ? { 'content-type': request.body.contentType } : {}),
      ...(request.idempotencyKey ? { 'idempotency-key': request.idempotencyKey } : {}),
    },
    body: request.body?.text,
    redirect: 'manual',
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, text: await res.text() };
}

it('answers every generated request without a 5xx, and a refused request writes nothing', async () => {
  const db = stack.database.db;
  const document = (await call(stack, undefined, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, JsonSchema>> };
  const operations: Operation[] = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, spec]) => ({
      method,
      path,
      parameters: spec.parameters ?? [],
      body: spec.requestBody?.content?.['application/json']?.schema,
    })));
  expect(operations.length).toBeGreaterThan(20);

  const serverErrors: string[] = [];
  const writesByRefused: string[] = [];
  const neverRegistered: string[] = [];
  const report: string[] = [];
  let state = await quiescent(db);
  let sent = 0;
  let previous = 'the set-up';
  for (const [index, operation] of operations.entries()) {
    const name = `${operation.method.toUpperCase()} ${operation.path}`;
    const statuses = new Map<number, number>();
    for (const request of fc.sample(requestsFor(operation), { seed: SEED + index, numRuns: REQUESTS_PER_OPERATION })) {
      const before = await fingerprint(db);
      const drift = changedTables(state, before);
      if (drift.length) writesByRefused.push(`after ${previous} was answered, ${drift.join(', ')} changed`);
      const what = `${name} as ${request.role}: ${operation.method.toUpperCase()} ${request.url.slice(0, 200)}${request.body ? ` ${request.body.contentType} ${request.body.text.slice(0, 300)}` : ''}`;
      let answer: { status: number; text: string };
      try {
        answer = await send(operation, request);
      } catch (error) {
        serverErrors.push(`${what} -> no answer (${error instanceof Error ? error.message : error})`);
        state = await quiescent(db);
        continue;
      }
      sent += 1;
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status >= 500) serverErrors.push(`${what} -> ${answer.status} ${answer.text.slice(0, 300)}`);
      if (answer.status >= 400 && answer.status < 500) {
        state = await fingerprint(db);
        const written = changedTables(before, state);
        if (written.length) writesByRefused.push(`${what} -> ${answer.status}, yet wrote to ${written.join(', ')}`);
      } else {
        // A command that went through may have set a workflow going: let it settle before the next refusal is judged.
        state = operation.method === 'get' ? await fingerprint(db) : await quiescent(db);
        const accepted = answer.status === 202 ? (JSON.parse(answer.text) as { workflowId?: string }).workflowId : undefined;
        if (accepted && !(await db('processes').where({ workflow_id: accepted }).first())) {
          neverRegistered.push(`${what} -> 202 ${accepted}, which a running worker never registered`);
        }
      }
      previous = `${what} -> ${answer.status}`;
    }
    report.push(`${name.padEnd(58)} ${String(REQUESTS_PER_OPERATION).padStart(3)} sent: ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`);
  }
  console.log(
    `fuzzer (seed ${SEED}, ${REQUESTS_PER_OPERATION} requests per operation, keys of ${Object.keys(people).join(', ')}):\n${report.join('\n')}\n`
    + `${sent} requests to ${operations.length} operations; ${serverErrors.length} 5xx or unanswered; ${writesByRefused.length} refused requests that wrote; `
    + `${neverRegistered.length} accepted submissions never registered`
    + `${[...serverErrors, ...writesByRefused, ...neverRegistered].map((line) => `\n  ${line}`).join('')}`,
  );
  expect(serverErrors).toEqual([]);
  expect(writesByRefused).toEqual([]);
  expect(neverRegistered).toEqual([]);
}, 600_000);
