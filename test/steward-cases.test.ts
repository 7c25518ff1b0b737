/**
 * Data steward cases (issue 16) with real Temporal and Postgres: a duplicate reaches a steward's
 * inbox with the task email; a merge keeps every relationship, history row, installation and cost
 * record of both; keep both and ignore are remembered; a merge the data forbids is refused with its
 * reason and asked again; nobody but a steward decides, and every decision is audited.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { identify, pairKeyOf, type IdentificationRule } from '../domain/reconciliation';
import { insertImport } from '../model/imports';
import { openStewardCase, settledPairKeys, startStewardCaseWorkflows } from '../model/reconciliation/cases';
import { mergeRecords } from '../model/reconciliation/merge';
import type { ApprovalTimings } from '../workflows/approvals/contract';
import { createApprovalRule, createAsset, createGroup, createPerson, eventually, relate, type TestPerson } from './support/fixtures';
import { recordHistory } from './support/histories';
import { runInventoryBatch } from './support/inventory';
import { RELAXED_APPROVAL_TIMINGS, call, send, startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent } from './support/web-agent';

jest.setTimeout(120_000);

const unique = () => randomBytes(4).toString('hex');

let stack: Stack;
let db: Knex;
let steward: TestPerson;
let outsider: TestPerson;
let overseer: TestPerson;

beforeAll(async () => {
  stack = await startStack();
  db = stack.database.db;
  steward = await createPerson(db, ['approver'], `Steward ${unique()}`);
  outsider = await createPerson(db, ['requester', 'approver'], `Outsider ${unique()}`);
  overseer = await createPerson(db, ['process_owner'], `Owner ${unique()}`);
  const group = await db('groups').where({ name: 'Data stewards' }).first('id');
  await db('group_members').insert({ group_id: group.id, person_id: steward.id });
});

afterAll(async () => {
  await stack?.stop();
});

async function server(fields: Record<string, unknown> = {}): Promise<{ id: string; number: string; name: string }> {
  const [row] = await db('configuration_items')
    .insert({ name: `srv-${unique()}`, ci_class: 'server', ...fields })
    .returning(['id', 'number', 'name']);
  return row;
}

/** Opens a case on these records as the batch engine does (in a transaction, then the workflow after the commit). */
async function openCase(ciIds: string[], timings: ApprovalTimings = RELAXED_APPROVAL_TIMINGS.normal): Promise<{ caseId: string; caseNumber: string; state: string; importId: string }> {
  const importId = await insertImport(db, {
    kind: 'inventory', format: 'jsonl', fileName: null, dryRun: false, onInvalidRows: 'skip_rows', requestedById: overseer.id,
    inventory: { source: 'discovery', batchKey: null, observedAt: new Date().toISOString() },
  });
  const opened = await db.transaction((trx) => openStewardCase(trx, { ciIds, reason: 'the row\'s serialNumber names one record and its hostname + domain another', importId, rowNumber: 1, row: { ciClass: 'server' } }));
  await startStewardCaseWorkflows(db, stack.env.client, stack.taskQueue, timings, importId, 1, 1);
  return { ...opened, importId };
}

const caseRow = (id: string) => db('reconciliation_cases').where({ id }).first();
const product = async () => (await db('software_products').insert({ publisher: 'Test', name: `Tool ${unique()}`, licence_metric: 'per_device', unit_price_minor: 1000, currency: 'EUR' }).returning('id'))[0].id as string;
/** The live installations of a product on a record: on it, or on the asset behind it with no record named. */
const liveInstallationsOn = async (ciId: string, productId: string) => {
  const ci = await db('configuration_items').where({ id: ciId }).first('asset_id');
  return db('software_consumptions').where({ product_id: productId, kind: 'installation' }).whereNull('reclaimed_at')
    .where((w) => w.where({ ci_id: ciId }).orWhere((a) => a.whereNull('ci_id').where({ asset_id: ci.asset_id ?? null })));
};

const settledAs = (id: string, state: string) => eventually(async () => ((await caseRow(id))?.state === state ? caseRow(id) : undefined));
const openApprovalOf = (caseId: string, personId: string) =>
  eventually(() => db('approvals').where({ subject_type: 'reconciliation_case', subject_id: caseId, approver_id: personId, state: 'requested' }).first());

it('a duplicate reaches the steward\'s inbox with the task email, once per pair', async () => {
  const [a, b] = [await server(), await server()];
  const opened = await openCase([b.id, a.id]);
  expect(opened).toMatchObject({ state: 'open', caseNumber: expect.stringMatching(/^RCN\d{7}$/) });

  const mail = await stack.sink.waitFor((m) => m.to.includes(steward.email) && m.subject.includes(opened.caseNumber));
  expect(mail.text).toContain(`${a.number} ${a.name}`);
  expect(mail.text).toContain('Approve merges them into');
  const inbox = await call(stack, steward.apiKey, 'GET', '/approvals?limit=200');
  expect(inbox.status).toBe(200);
  expect(inbox.body.items).toContainEqual(expect.objectContaining({ subjectType: 'reconciliation_case', subjectId: opened.caseId, number: opened.caseNumber }));

  // The same pair again (another batch, a retried chunk) is the same case and the same workflow.
  const again = await openCase([a.id, b.id]);
  expect(again.caseId).toBe(opened.caseId);
  const row = await caseRow(opened.caseId);
  expect(row).toMatchObject({ ci_ids: [a.id, b.id].sort(), pair_key: pairKeyOf([a.id, b.id]), workflow_id: `steward-case:${opened.caseNumber}` });
  await startStewardCaseWorkflows(db, stack.env.client, stack.taskQueue, RELAXED_APPROVAL_TIMINGS.normal, opened.importId, 1, 1);
  expect(await db('approvals').where({ subject_id: opened.caseId })).toHaveLength(1);

  const detail = await call(stack, steward.apiKey, 'GET', `/reconciliation/cases/${opened.caseNumber}`);
  expect(detail.status).toBe(200);
  expect(detail.body.recordDetails.map((r: { id: string }) => r.id)).toEqual([a.id, b.id].sort());
  expect((await call(stack, outsider.apiKey, 'GET', `/reconciliation/cases/${opened.caseNumber}`)).status).toBe(403);
  const list = await call(stack, overseer.apiKey, 'GET', '/reconciliation/cases?state=open&limit=200');
  expect(list.body.items.map((c: { number: string }) => c.number)).toContain(opened.caseNumber);
});

it('a merge keeps every relationship, history row, installation and cost record of both, and retires the loser pointing at the survivor', async () => {
  const asset = await createAsset(db);
  const survivor = await server({ hostname: `keep-${unique()}`, dns_domain: 'corp.example', created_at: new Date(Date.now() - 86_400_000) });
  const loser = await server({ hostname: `dup-${unique()}`, dns_domain: 'corp.example', mac_address: randomBytes(6).toString('hex'), discovery_state: 'discovered', asset_id: asset.id });
  const [x, y, z] = [await server(), await server(), await server()];
  await relate(db, survivor.id, 'depends_on', x.id);
  await relate(db, loser.id, 'depends_on', x.id);
  await relate(db, y.id, 'runs_on', loser.id);
  await relate(db, loser.id, 'hosted_on', z.id);
  await relate(db, survivor.id, 'uses', loser.id);
  for (const [ci, action] of [[survivor, 'created'], [loser, 'created']] as const) {
    await db('audit_log').insert({ idempotency_key: `test:${unique()}`, actor: 'system:test', subject_type: 'configuration_item', subject_id: ci.id, action });
  }
  const [both, onlyLoser, onLoserAsset] = [await product(), await product(), await product()];
  await db('software_consumptions').insert([
    { product_id: both, kind: 'installation', ci_id: survivor.id },
    { product_id: both, kind: 'installation', ci_id: loser.id },
    { product_id: onlyLoser, kind: 'installation', ci_id: loser.id },
    // Found on the survivor, and recorded by a person on the asset that moves to it: one installation after the merge.
    { product_id: onLoserAsset, kind: 'installation', ci_id: survivor.id },
    { product_id: onLoserAsset, kind: 'installation', asset_id: asset.id },
  ]);
  const requester = await createPerson(db, ['requester'], `Requester ${unique()}`);
  const [change] = await db('change_requests').insert({ type: 'normal', requester_id: requester.id, title: `Patch ${loser.name}` }).returning('id');
  await db('change_affected_cis').insert({ change_request_id: change.id, ci_id: loser.id });
  const [window] = await db('schedule_windows')
    .insert({ kind: 'maintenance', name: `Window ${unique()}`, starts_at: new Date(Date.now() + 86_400_000), ends_at: new Date(Date.now() + 90_000_000), ci_id: loser.id })
    .returning('id');
  await db('cost_records').insert({
    source_key: `test:${unique()}`, billing_period_start: '2026-11-01', billing_period_end: '2026-12-01', charge_period_start: '2026-11-01', charge_period_end: '2026-12-01',
    charge_category: 'Usage', provider_name: 'Test', service_name: 'Hosting', billed_cost: 10, effective_cost: 10, billing_currency: 'EUR', ci_id: loser.id,
  });
  const old = new Date(Date.now() - 20 * 86_400_000);
  const recent = new Date(Date.now() - 86_400_000);
  await db('attribute_provenance').insert([
    // The survivor keeps its name and host name: its word on them stays, however recently the loser's was confirmed.
    { ci_id: survivor.id, attribute: 'name', source: 'manual', set_at: old, confirmed_at: old },
    { ci_id: loser.id, attribute: 'name', source: 'discovery', set_at: recent, confirmed_at: recent },
    { ci_id: survivor.id, attribute: 'hostname', source: 'manual', set_at: old, confirmed_at: old },
    { ci_id: loser.id, attribute: 'hostname', source: 'discovery', set_at: recent, confirmed_at: recent },
    // The asset's location moves with the asset, and the MAC the survivor lacked with the loser's word on them.
    { ci_id: survivor.id, attribute: 'location', source: 'manual', set_at: recent, confirmed_at: recent },
    { ci_id: loser.id, attribute: 'location', source: 'mdm', set_at: old, confirmed_at: old },
    { ci_id: loser.id, attribute: 'macAddress', source: 'discovery', set_at: recent, confirmed_at: recent },
  ]);
  await db('ci_sightings').insert([
    { ci_id: survivor.id, source: 'discovery', first_seen_at: new Date(Date.now() - 10 * 86_400_000), last_seen_at: new Date(Date.now() - 5 * 86_400_000) },
    { ci_id: loser.id, source: 'discovery', first_seen_at: old, last_seen_at: recent },
  ]);

  // Another open case names the loser: the merge leaves it nothing to decide.
  const other = await openCase([loser.id, (await server()).id]);
  await openApprovalOf(other.caseId, steward.id);

  const opened = await openCase([survivor.id, loser.id]);
  await openApprovalOf(opened.caseId, steward.id);
  const decided = await call(stack, steward.apiKey, 'POST', `/reconciliation/cases/${opened.caseNumber}/decision`, { resolution: 'merge', survivorCiId: survivor.id, comment: 'same box' });
  expect(decided).toMatchObject({ status: 200, body: { decision: 'approved', stepOutcome: 'approved', resolution: 'merge' } });
  const settled = await settledAs(opened.caseId, 'merged');
  expect(settled).toMatchObject({ survivor_ci_id: survivor.id, decided_by_id: steward.id, comment: 'same box' });

  const live = await db('ci_relationships').whereNull('retired_at').where((w) => w.whereIn('from_ci_id', [survivor.id, loser.id]).orWhereIn('to_ci_id', [survivor.id, loser.id]))
    .select('from_ci_id', 'to_ci_id', 'type');
  expect(live).toHaveLength(3);
  expect(live).toEqual(expect.arrayContaining([
    { from_ci_id: survivor.id, to_ci_id: x.id, type: 'depends_on' },
    { from_ci_id: y.id, to_ci_id: survivor.id, type: 'runs_on' },
    { from_ci_id: survivor.id, to_ci_id: z.id, type: 'hosted_on' },
  ]));
  // The duplicate edge and the edge between the two stay, retired, as history.
  expect(await db('ci_relationships').where((w) => w.where('from_ci_id', loser.id).orWhere('to_ci_id', loser.id)).whereNotNull('retired_at')).toHaveLength(2);

  const retired = await db('configuration_items').where({ id: loser.id }).first();
  expect(retired).toMatchObject({ operational_status: 'retired', merged_into_id: survivor.id, asset_id: null, mac_address: null, hostname: null });
  expect(retired.retired_at).not.toBeNull();
  const kept = await db('configuration_items').where({ id: survivor.id }).first();
  expect(kept).toMatchObject({ asset_id: asset.id, mac_address: expect.any(String), hostname: expect.stringMatching(/^keep-/), discovery_state: 'verified' });

  const installations = await db('software_consumptions').whereIn('product_id', [both, onlyLoser]).select('product_id', 'ci_id', 'reclaimed_at', 'reclaimed_by_key');
  expect(installations).toHaveLength(3);
  expect(installations.every((i) => i.ci_id === survivor.id)).toBe(true);
  expect(installations.filter((i) => i.reclaimed_at === null).map((i) => i.product_id).sort()).toEqual([both, onlyLoser].sort());
  expect(installations.filter((i) => i.reclaimed_at !== null)).toEqual([expect.objectContaining({ product_id: both, reclaimed_by_key: expect.stringContaining(':settle:') })]);
  expect(await liveInstallationsOn(survivor.id, onLoserAsset)).toEqual([expect.objectContaining({ ci_id: survivor.id })]);
  expect(await db('cost_records').where({ ci_id: survivor.id })).toHaveLength(1);
  expect(await db('change_affected_cis').where({ change_request_id: change.id }).pluck('ci_id')).toEqual([survivor.id]);
  expect(await db('schedule_windows').where({ id: window.id }).first('ci_id')).toEqual({ ci_id: survivor.id });

  const provenance = await db('attribute_provenance').whereIn('ci_id', [survivor.id, loser.id]).orderBy('attribute').select('ci_id', 'attribute', 'source');
  expect(provenance).toEqual([
    { ci_id: survivor.id, attribute: 'hostname', source: 'manual' },
    { ci_id: survivor.id, attribute: 'location', source: 'mdm' },
    { ci_id: survivor.id, attribute: 'macAddress', source: 'discovery' },
    { ci_id: survivor.id, attribute: 'name', source: 'manual' },
  ]);
  const sighting = await db('ci_sightings').where({ ci_id: survivor.id, source: 'discovery' }).first();
  expect([new Date(sighting.first_seen_at).getTime(), new Date(sighting.last_seen_at).getTime()]).toEqual([old.getTime(), recent.getTime()]);
  expect(await db('ci_sightings').where({ ci_id: loser.id })).toHaveLength(0);

  // History of both is still found by its subject, and says what became of it.
  const historyOf = async (id: string) => (await db('audit_log').where({ subject_type: 'configuration_item', subject_id: id }).orderBy('id')).map((r) => r.action);
  expect(await historyOf(loser.id)).toEqual(['created', 'merged_into']);
  expect(await historyOf(survivor.id)).toEqual(['created', 'merged_from']);
  const decision = await db('audit_log').where({ subject_type: 'reconciliation_case', subject_id: opened.caseId, action: 'settled' }).first();
  expect(decision).toMatchObject({ actor: steward.email, from_state: 'open', to_state: 'merged' });
  expect(decision.details).toMatchObject({
    resolution: 'merge', survivorCiId: survivor.id,
    result: {
      moved: {
        relationshipsMoved: 2, relationshipsDropped: 2, installationsMoved: 2, installationsReclaimed: 2, costRecordsMoved: 1, assetMoved: 1,
        changesMoved: 1, windowsMoved: 1, provenanceMoved: 2, identifiersMoved: 1,
      },
      cancelledCases: [{ caseId: other.caseId, number: other.caseNumber, workflowId: `steward-case:${other.caseNumber}` }],
    },
  });

  // The other case is cancelled with the merge, audited, and its workflow ends with its approval cancelled.
  expect(await caseRow(other.caseId)).toMatchObject({ state: 'cancelled', comment: expect.stringContaining(`by ${opened.caseNumber}`) });
  expect(await db('audit_log').where({ subject_type: 'reconciliation_case', subject_id: other.caseId, action: 'cancelled' }).first())
    .toMatchObject({ actor: steward.email, from_state: 'open', to_state: 'cancelled', details: expect.objectContaining({ byCase: opened.caseNumber }) });
  expect(await stack.env.client.workflow.getHandle(`steward-case:${other.caseNumber}`).result()).toEqual({ caseId: other.caseId, state: 'cancelled' });
  expect(await db('approvals').where({ subject_id: other.caseId }).pluck('state')).toEqual(['cancelled']);

  const page = await call(stack, overseer.apiKey, 'GET', `/reconciliation/cases/${opened.caseNumber}`);
  expect(page.body).toMatchObject({ state: 'merged', survivorCiId: survivor.id, decidedBy: { email: steward.email } });
  const agent = webAgent(stack.baseUrl);
  await signInWithKey(agent, overseer.apiKey);
  expect((await browse(agent, 'GET', `/ui/cis/${survivor.number}`)).html).toContain(`Merged from <a href="/ui/cis/${loser.number}">${loser.number}`);
  expect((await browse(agent, 'GET', `/ui/cis/${loser.number}`)).html).toContain(`merged this record into <a href="/ui/cis/${survivor.number}">`);
  await recordHistory(stack.env.client, `steward-case:${opened.caseNumber}`, 'steward-case-merged.json');
  await recordHistory(stack.env.client, `steward-case:${other.caseNumber}`, 'steward-case-cancelled-by-merge.json');
});

it('a merge approved without a choice keeps the record the steward was shown, and a product on the survivor\'s asset is not counted twice', async () => {
  const asset = await createAsset(db);
  const shown = await server({ asset_id: asset.id, created_at: new Date(Date.now() - 86_400_000) });
  const other = await server({ discovery_state: 'discovered' });
  const tool = await product();
  await db('software_consumptions').insert([
    { product_id: tool, kind: 'installation', asset_id: asset.id },
    { product_id: tool, kind: 'installation', ci_id: other.id },
  ]);
  const opened = await openCase([other.id, shown.id]);
  await openApprovalOf(opened.caseId, steward.id);
  const mail = await stack.sink.waitFor((m) => m.to.includes(steward.email) && m.subject.includes(opened.caseNumber));
  expect(mail.text).toContain(`Approve merges them into ${shown.number}`);

  expect((await call(stack, steward.apiKey, 'POST', `/reconciliation/cases/${opened.caseNumber}/decision`, { resolution: 'merge' })).status).toBe(200);
  await settledAs(opened.caseId, 'merged');
  // The decision carried the record shown: the settling step merges into it, whatever the records look like by then.
  const history = await stack.env.client.workflow.getHandle(`steward-case:${opened.caseNumber}`).fetchHistory();
  const settling = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'settleStewardCase')!;
  const [input] = settling.activityTaskScheduledEventAttributes!.input!.payloads!.map((p) => JSON.parse(Buffer.from(p.data!).toString()));
  expect(input).toMatchObject({ resolution: 'merge', survivorCiId: shown.id });
  expect(await caseRow(opened.caseId)).toMatchObject({ survivor_ci_id: shown.id });

  expect(await liveInstallationsOn(shown.id, tool)).toEqual([expect.objectContaining({ asset_id: asset.id, ci_id: null })]);
  expect(await db('software_consumptions').where({ product_id: tool, ci_id: shown.id }).first())
    .toMatchObject({ reclaimed_by_key: expect.stringContaining(':settle:'), reclaimed_at: expect.any(Date) });
});

it('a merge counts the installations of both records and of the asset behind each once, before and after the asset moves', async () => {
  const asset = await createAsset(db);
  const [tool, another] = [await product(), await product()];
  // The survivor has the asset: a product recorded on it and found on the loser is one installation.
  const keeper = await server({ asset_id: asset.id });
  const found = await server();
  // The loser has the asset: a product recorded on it and found on the survivor is one installation.
  const otherAsset = await createAsset(db);
  const bare = await server();
  const backed = await server({ asset_id: otherAsset.id });
  await db('software_consumptions').insert([
    { product_id: tool, kind: 'installation', asset_id: asset.id },
    { product_id: tool, kind: 'installation', ci_id: found.id },
    { product_id: another, kind: 'installation', ci_id: bare.id },
    { product_id: another, kind: 'installation', asset_id: otherAsset.id },
  ]);
  const merged = await db.transaction(async (trx) => [
    await mergeRecords(trx, keeper.id, found.id, `test:${unique()}`),
    await mergeRecords(trx, bare.id, backed.id, `test:${unique()}`),
  ]);
  expect(merged.map((m) => m.counts.installationsReclaimed)).toEqual([1, 1]);
  expect(await liveInstallationsOn(keeper.id, tool)).toHaveLength(1);
  expect(await liveInstallationsOn(bare.id, another)).toEqual([expect.objectContaining({ ci_id: bare.id })]);
  expect(await db('configuration_items').where({ id: bare.id }).first('asset_id')).toEqual({ asset_id: otherAsset.id });
});

it('only an approved plan merges: a second step that expires after the stewards approved asks again', async () => {
  const reviewer = await createPerson(db, ['approver'], `Reviewer ${unique()}`);
  const rule = await createApprovalRule(db, {
    process: 'reconciliation', stepOrder: 2, name: `Second look ${unique()}`, approverKind: 'group', groupId: await createGroup(db, [reviewer.id]), onExpiry: 'reject',
  });
  try {
    const [m, n] = [await server(), await server()];
    // Step 2 expires unanswered a few seconds after it opens; step 1 is answered at once.
    const opened = await openCase([m.id, n.id], { reminderAfterMs: 2_000, escalationAfterMs: 4_000, deadlineMs: 6_000 });
    await openApprovalOf(opened.caseId, steward.id);
    expect((await call(stack, steward.apiKey, 'POST', `/reconciliation/cases/${opened.caseNumber}/decision`, { resolution: 'merge' })).status).toBe(200);
    await eventually(() => db('approvals').where({ subject_id: opened.caseId, approver_id: reviewer.id, state: 'expired' }).first());
    // Asked again from step 1, nothing merged.
    await eventually(() => db('approvals').where({ subject_id: opened.caseId, approver_id: steward.id, state: 'requested', revision: 1 }).first());
    expect(await caseRow(opened.caseId)).toMatchObject({ state: 'open' });
    expect(await db('configuration_items').whereIn('id', [m.id, n.id]).whereNotNull('merged_into_id')).toHaveLength(0);
    expect((await call(stack, steward.apiKey, 'POST', `/reconciliation/cases/${opened.caseNumber}/decision`, { resolution: 'keep_both' })).status).toBe(200);
    await settledAs(opened.caseId, 'kept_both');
  } finally {
    await db('approval_rules').where({ id: rule }).update({ active: false });
  }
});

it('keep both is remembered: the pair is not asked again, and identification matches past it', async () => {
  const [c, d] = [await server(), await server()];
  const opened = await openCase([c.id, d.id]);
  await openApprovalOf(opened.caseId, steward.id);
  // Through the emailed link: reject keeps both.
  const mail = await stack.sink.waitFor((m) => m.to.includes(steward.email) && m.subject.includes(opened.caseNumber));
  const link = new URL(/https?:\/\/\S+\/approvals\/\S+/.exec(mail.text)![0]);
  const token = link.searchParams.get('token')!;
  const linked = await send(stack, undefined, 'POST', `${link.pathname}/decision`, { body: { token, decision: 'rejected', resolution: 'merge' } });
  expect(linked.status).toBe(400);
  expect((await send(stack, undefined, 'POST', `${link.pathname}/decision`, { body: { token, decision: 'rejected' } })).status).toBe(200);
  await settledAs(opened.caseId, 'kept_both');

  const again = await openCase([d.id, c.id]);
  expect(again).toMatchObject({ caseId: opened.caseId, state: 'kept_both' });
  const settled = await settledPairKeys(db, [c.id, d.id, (await server()).id]);
  expect([...settled]).toEqual([pairKeyOf([c.id, d.id])]);
  const rules: IdentificationRule[] = [{ priority: 1, attributes: ['serialNumber'] }, { priority: 2, attributes: ['hostname', 'domain'] }];
  const matchesOf = (rule: IdentificationRule) => (rule.priority === 1 ? [c.id] : [d.id]);
  const row = { serialNumber: 'SN-1', hostname: 'web01', domain: 'corp.example' };
  expect(identify(rules, row, matchesOf).outcome).toBe('duplicate');
  expect(identify(rules, row, matchesOf, (ids) => settled.has(pairKeyOf(ids)))).toMatchObject({ outcome: 'match', recordId: c.id });
});

it('ignore is remembered too, and audited with the steward and the comment', async () => {
  const [e, f] = [await server(), await server()];
  const opened = await openCase([e.id, f.id]);
  await openApprovalOf(opened.caseId, steward.id);
  expect((await call(stack, steward.apiKey, 'POST', `/reconciliation/cases/${opened.caseNumber}/decision`, { resolution: 'ignore', survivorCiId: e.id })).status).toBe(400);
  // Through the emailed link's page: its form names the resolution only.
  const mail = await stack.sink.waitFor((m) => m.to.includes(steward.email) && m.subject.includes(opened.caseNumber));
  const link = new URL(/https?:\/\/\S+\/approvals\/\S+/.exec(mail.text)![0]);
  const linkPage = await browse(webAgent(stack.baseUrl), 'GET', `${link.pathname}${link.search}`);
  expect(linkPage.html).toContain('value="keep_both"');
  expect(linkPage.html).toContain('value="ignore"');
  const answered = await browse(webAgent(stack.baseUrl), 'POST', link.pathname, { token: link.searchParams.get('token')!, resolution: 'ignore', comment: 'scanner glitch' });
  expect(answered.status).toBe(200);
  await settledAs(opened.caseId, 'ignored');
  expect([...(await settledPairKeys(db, [e.id, f.id]))]).toEqual([pairKeyOf([e.id, f.id])]);
  const audit = await db('audit_log').where({ subject_type: 'reconciliation_case', subject_id: opened.caseId, action: 'settled' }).first();
  expect(audit).toMatchObject({ actor: steward.email, to_state: 'ignored', details: expect.objectContaining({ resolution: 'ignore', comment: 'scanner glitch' }) });
  // The records are as they were.
  expect(await db('configuration_items').whereIn('id', [e.id, f.id]).whereNotNull('retired_at')).toHaveLength(0);
});

it('a decision by someone who is not a steward is refused; a merge the data forbids is refused with its reason and asked again', async () => {
  const [one, two] = [await createAsset(db), await createAsset(db)];
  const [g, h] = [await server({ asset_id: one.id }), await server({ asset_id: two.id })];
  const opened = await openCase([g.id, h.id]);
  const approval = await openApprovalOf(opened.caseId, steward.id);

  const byOutsider = await call(stack, outsider.apiKey, 'POST', `/reconciliation/cases/${opened.caseNumber}/decision`, { resolution: 'keep_both' });
  expect(byOutsider.status).toBe(403);
  const throughTheApproval = await call(stack, outsider.apiKey, 'POST', `/approvals/${approval.id}/decision`, { token: 'forged', decision: 'rejected' });
  expect(throughTheApproval.status).toBe(403);
  expect((await call(stack, steward.apiKey, 'POST', `/reconciliation/cases/${opened.caseNumber}/decision`, { resolution: 'merge', survivorCiId: (await server()).id })).status).toBe(400);

  // Both records have an asset: the merge is refused whole, the case stays open with the reason, and the steward is asked again.
  expect((await call(stack, steward.apiKey, 'POST', `/reconciliation/cases/${opened.caseNumber}/decision`, { resolution: 'merge' })).status).toBe(200);
  const refused = await eventually(() => db('audit_log').where({ subject_type: 'reconciliation_case', subject_id: opened.caseId, action: 'settle_refused' }).first());
  expect(refused.details.reason).toContain('both');
  const second = await eventually(() => db('approvals').where({ subject_id: opened.caseId, approver_id: steward.id, state: 'requested', revision: 1 }).first());
  expect(second).toBeDefined();
  const detail = await call(stack, steward.apiKey, 'GET', `/reconciliation/cases/${opened.caseNumber}`);
  expect(detail.body).toMatchObject({ state: 'open', refusal: expect.stringContaining('have an asset') });
  expect(await db('configuration_items').whereIn('id', [g.id, h.id]).whereNotNull('merged_into_id')).toHaveLength(0);

  expect((await call(stack, steward.apiKey, 'POST', `/reconciliation/cases/${opened.caseNumber}/decision`, { resolution: 'keep_both' })).status).toBe(200);
  await settledAs(opened.caseId, 'kept_both');
  const decisions = await db('audit_log').where({ subject_type: 'reconciliation_case', subject_id: opened.caseId }).whereIn('action', ['approval_approved', 'approval_rejected', 'settled']).orderBy('id');
  expect(decisions.map((d) => [d.action, d.actor])).toEqual([['approval_approved', steward.email], ['approval_rejected', steward.email], ['settled', steward.email]]);
  expect((await call(stack, steward.apiKey, 'POST', `/reconciliation/cases/${opened.caseNumber}/decision`, { resolution: 'keep_both' })).status).toBe(409);
  await recordHistory(stack.env.client, `steward-case:${opened.caseNumber}`, 'steward-case-merge-refused-then-kept-both.json');
});

it('end to end: a row whose serial names one record and whose host name another is held, and its case reaches the steward', async () => {
  const asset = await createAsset(db);
  const bySerial = await server({ asset_id: asset.id });
  const host = `web-${unique()}`;
  const byName = await server({ hostname: host, dns_domain: 'corp.example' });
  const batch = await runInventoryBatch(stack, {
    source: 'discovery', requestedById: overseer.id,
    rows: [{ ciClass: 'server', serialNumber: asset.serialNumber!, hostname: `${host}.corp.example` }],
  });
  expect(batch.rows[0]).toMatchObject({ outcome: 'held' });
  const held = await eventually(() => db('reconciliation_cases').where({ pair_key: pairKeyOf([bySerial.id, byName.id]) }).first());
  expect(held).toMatchObject({ state: 'open', import_id: batch.importId, row_number: 1 });
  await stack.sink.waitFor((m) => m.to.includes(steward.email) && m.subject.includes(held.number));
  expect((await call(stack, steward.apiKey, 'POST', `/reconciliation/cases/${held.number}/decision`, { resolution: 'keep_both' })).status).toBe(200);
  await settledAs(held.id, 'kept_both');

  // The same row again is not held: the pair was kept apart, so the serial decides.
  const again = await runInventoryBatch(stack, {
    source: 'discovery', requestedById: overseer.id,
    rows: [{ ciClass: 'server', serialNumber: asset.serialNumber!, hostname: `${host}.corp.example` }],
  });
  expect(again.rows[0].outcome).not.toBe('held');
  expect(await db('reconciliation_cases').where({ pair_key: pairKeyOf([bySerial.id, byName.id]) })).toHaveLength(1);
});

it('the case page shows the records side by side and decides through the same command, for the steward it waits for only', async () => {
  const [k, l] = [await server({ hostname: `side-${unique()}`, dns_domain: 'corp.example' }), await server()];
  const opened = await openCase([k.id, l.id]);
  await openApprovalOf(opened.caseId, steward.id);

  const outsiderAgent = webAgent(stack.baseUrl);
  await signInWithKey(outsiderAgent, outsider.apiKey);
  expect((await browse(outsiderAgent, 'GET', `/ui/reconciliation/cases/${opened.caseNumber}`)).status).toBe(403);
  expect((await browse(outsiderAgent, 'GET', '/ui/reconciliation/cases')).status).toBe(403);

  const ownerAgent = webAgent(stack.baseUrl);
  await signInWithKey(ownerAgent, overseer.apiKey);
  const list = await browse(ownerAgent, 'GET', '/ui/reconciliation/cases?state=open');
  expect(list.html).toContain(opened.caseNumber);
  const asOwner = await browse(ownerAgent, 'GET', `/ui/reconciliation/cases/${opened.caseNumber}`);
  expect(asOwner.status).toBe(200);
  expect(asOwner.html).not.toContain('name="choice"');

  const agent = webAgent(stack.baseUrl);
  await signInWithKey(agent, steward.apiKey);
  const shown = await browse(agent, 'GET', `/ui/reconciliation/cases/${opened.caseNumber}`);
  expect(shown.status).toBe(200);
  expect(shown.html).toContain(k.number);
  expect(shown.html).toContain(l.number);
  expect(shown.html).toContain('The records side by side');
  expect(shown.html).toContain(`value="merge:${k.id}"`);
  const csrf = hiddenCsrf(shown.html)!;
  const unchosen = await browse(agent, 'POST', `/ui/reconciliation/cases/${opened.caseNumber}/decision`, { csrf, comment: 'no choice' });
  expect(unchosen.status).toBe(400);
  expect(unchosen.html).toContain('role="alert"');
  const decided = await browse(agent, 'POST', `/ui/reconciliation/cases/${opened.caseNumber}/decision`, { csrf, choice: 'keep_both', comment: 'two boxes' });
  expect(decided.status).toBe(303);
  expect(decided.location).toBe(`/ui/reconciliation/cases/${opened.caseNumber}?decided=keep_both`);
  await settledAs(opened.caseId, 'kept_both');
  const after = await browse(agent, 'GET', `/ui/reconciliation/cases/${opened.caseNumber}`);
  expect(after.html).toContain('kept both by');
  expect(after.html).not.toContain('name="choice"');
});

it('with nobody active in the data stewards the asset managers are asked, and the case says so', async () => {
  const group = await db('groups').where({ name: 'Data stewards' }).first('id');
  const assetManager = await createPerson(db, ['asset_manager'], `Asset manager ${unique()}`);
  await db('group_members').where({ group_id: group.id, person_id: steward.id }).delete();
  try {
    const opened = await openCase([(await server()).id, (await server()).id]);
    await openApprovalOf(opened.caseId, assetManager.id);
    expect(await db('approvals').where({ subject_id: opened.caseId, approver_id: steward.id })).toHaveLength(0);
    const detail = await call(stack, assetManager.apiKey, 'GET', `/reconciliation/cases/${opened.caseNumber}`);
    expect(detail.body.routingNote).toContain('asset managers');
    expect((await call(stack, assetManager.apiKey, 'POST', `/reconciliation/cases/${opened.caseNumber}/decision`, { resolution: 'keep_both' })).status).toBe(200);
    await settledAs(opened.caseId, 'kept_both');
  } finally {
    await db('group_members').insert({ group_id: group.id, person_id: steward.id });
  }
});
