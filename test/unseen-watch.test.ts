/**
 * Not seen for N days: a server every watching feed stopped seeing becomes a candidate for the
 * missing state through its asset's lifecycle workflow, on a real Temporal dev server, Postgres and
 * SMTP sink. The watch is started directly here (the schedule starts the same workflow). The
 * candidacy is told once (audit row, the manager's email), never moves the asset, and ends when a
 * feed sees it again or the asset manager settles it; a record a watching feed still sees, or one
 * only sources without a period report, is never a candidate, nor one a data steward has an open
 * case about. One test goes the real way, from batches observed long ago and now; the others set
 * sightings far in the past rather than changing the shared sources' periods.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { pairKeyOf } from '../domain/reconciliation';
import { unseenPeriods, untoldCandidates } from '../model/reconciliation/unseen';
import { ensureUnseenWatchSchedule } from '../platform/schedules';
import { assetLifecycleWorkflowId, lifecycleStatusQuery } from '../workflows/asset-lifecycle/contract';
import { lifecycleStartOptions } from '../workflows/asset-lifecycle/start';
import { UNSEEN_WATCH_SCHEDULE_ID, type UnseenWatchOutcome } from '../workflows/unseen-watch/contract';
import { auditRows, createAsset, createCi, createHardwareModel, createPerson, eventually, type TestPerson } from './support/fixtures';
import { call, startStack, type Stack } from './support/stack';
import { runInventoryBatch } from './support/inventory';
import { browse, signInWithKey, webAgent } from './support/web-agent';

let stack: Stack;
let manager: TestPerson;
let runs = 0;

beforeAll(async () => {
  stack = await startStack();
  manager = await createPerson(stack.database.db, ['asset_manager'], 'Una Unseen');
});

afterAll(async () => {
  await stack?.stop();
});

const DAY_MS = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS);

/** One run of the watch, as the schedule starts it. */
async function watchOnce(): Promise<{ outcome: UnseenWatchOutcome; workflowId: string }> {
  const workflowId = `unseen-watch-test-${process.pid}-${(runs += 1)}`;
  const outcome = await stack.env.client.workflow.execute('unseenWatchWorkflow', { taskQueue: stack.taskQueue, workflowId, args: [{}] }) as UnseenWatchOutcome;
  return { outcome, workflowId };
}

/** A server in use, managed by the test's manager, with a running lifecycle workflow and these sightings. */
async function watchedServer(label: string, sightings: { source: string; lastSeenAt: Date }[]) {
  const db = stack.database.db;
  const asset = await createAsset(db, { state: 'in_use', assignedToId: manager.id, managedById: manager.id });
  const ci = await createCi(db, { name: `srv-${label}-${asset.assetTag.toLowerCase()}`, ciClass: 'server', assetId: asset.id });
  if (sightings.length) {
    await db('ci_sightings').insert(sightings.map((s) => ({ ci_id: ci.id, source: s.source, first_seen_at: daysAgo(400), last_seen_at: s.lastSeenAt })));
  }
  await stack.env.client.workflow.start('assetLifecycleWorkflow', lifecycleStartOptions(asset, { taskQueue: stack.taskQueue, reminders: stack.reminders }));
  const handle = stack.env.client.workflow.getHandle(assetLifecycleWorkflowId(asset.assetTag));
  return { asset, ci, handle, status: () => handle.query(lifecycleStatusQuery) };
}

const mailsAbout = (assetTag: string) => stack.sink.messages().filter((m) => m.subject.startsWith(`${assetTag} not seen`));
const actionsOf = async (assetId: string) => (await auditRows(stack.database.db, assetId)).map((row) => row.action as string);
const candidateSince = async (ciId: string) => (await stack.database.db('ci_sightings').where({ ci_id: ciId }).pluck('missing_candidate_since')) as (Date | null)[];

it('makes a server every watching feed stopped seeing a missing candidate through its lifecycle workflow, once, without moving it; seen again, the candidacy ends', async () => {
  const lastSeen = daysAgo(40);
  const server = await watchedServer('gone', [{ source: 'discovery', lastSeenAt: lastSeen }, { source: 'hr', lastSeenAt: daysAgo(1) }]);

  const first = await watchOnce();
  expect(first.outcome.told).toBeGreaterThanOrEqual(1);

  // The lifecycle workflow holds the candidacy: when discovery last saw it; HR, without a period, does not count.
  const status = await eventually(async () => {
    const s = await server.status();
    return s.missingCandidate ? s : undefined;
  });
  expect(status.missingCandidate!.lastSeen).toEqual([{ source: 'discovery', lastSeenAt: lastSeen.toISOString() }]);
  expect(status.asset.state).toBe('in_use');

  // Told once: the audit row and the manager's email with the asset's page.
  const mail = await stack.sink.waitFor((m) => m.subject.startsWith(`${server.asset.assetTag} not seen by discovery since`));
  expect(mail.to).toEqual([manager.email]);
  expect(mail.text).toContain(`/ui/assets/${server.asset.assetTag}`);
  expect(mail.text).toContain('Confirm it missing, or record where it is');
  await eventually(async () => (await actionsOf(server.asset.id)).includes('missing_candidate'));
  const [notice] = (await auditRows(stack.database.db, server.asset.id)).filter((row) => row.action === 'missing_candidate');
  expect(notice.details).toMatchObject({ since: status.missingCandidate!.since, lastSeen: [{ source: 'discovery', lastSeenAt: lastSeen.toISOString() }], told: [manager.email] });
  expect(notice.workflow_id).toBe(assetLifecycleWorkflowId(server.asset.assetTag));
  expect((await candidateSince(server.ci.id)).every((since) => since?.toISOString() === status.missingCandidate!.since)).toBe(true);

  // The state is the asset manager's to change.
  const db = stack.database.db;
  expect((await db('assets').where({ id: server.asset.id }).first('state')).state).toBe('in_use');
  expect(await actionsOf(server.asset.id)).not.toContain('transition');

  // The asset's API and page say so, beside the moves.
  const api = await call(stack, manager.apiKey, 'GET', `/assets/${server.asset.assetTag}`);
  expect(api.status).toBe(200);
  expect(api.body.missingCandidate).toEqual(status.missingCandidate);
  const agent = webAgent(stack.baseUrl);
  expect((await signInWithKey(agent, manager.apiKey)).status).toBe(303);
  const page = (await browse(agent, 'GET', `/ui/assets/${server.asset.assetTag}`)).html;
  const line = /<p id="missing-candidate"[^>]*>([\s\S]*?)<\/p>/.exec(page)?.[1].replace(/<[^>]+>/g, '');
  expect(line).toMatch(/^Candidate for missing since .+ — not seen by discovery since .+\. Move it to missing/);
  expect(page.indexOf('id="missing-candidate"')).toBeLessThan(page.indexOf('id="move-missing-heading"'));

  // Another run tells nothing more.
  await watchOnce();
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(mailsAbout(server.asset.assetTag)).toHaveLength(1);
  expect((await actionsOf(server.asset.id)).filter((a) => a === 'missing_candidate')).toHaveLength(1);

  // Discovery sees it again: the candidacy ends, audited, and the mark is cleared.
  const seenAt = daysAgo(0.5);
  await db('ci_sightings').where({ ci_id: server.ci.id, source: 'discovery' }).update({ last_seen_at: seenAt });
  const again = await watchOnce();
  expect(again.outcome.seenAgain).toBeGreaterThanOrEqual(1);
  await eventually(async () => (await server.status()).missingCandidate === null);
  const ended = await eventually(async () => (await auditRows(db, server.asset.id)).find((row) => row.action === 'missing_candidate_ended'));
  expect(ended.details).toMatchObject({ since: status.missingCandidate!.since, seenAgain: { source: 'discovery', seenAt: seenAt.toISOString() } });
  expect(await candidateSince(server.ci.id)).toEqual([null, null]);
  expect((await call(stack, manager.apiKey, 'GET', `/assets/${server.asset.assetTag}`)).body.missingCandidate).toBeNull();
  expect((await server.status()).asset.state).toBe('in_use');

  if (process.env.RECORD_HISTORIES) {
    const histories = path.join(__dirname, 'histories');
    fs.writeFileSync(path.join(histories, 'asset-lifecycle-missing-candidate-seen-again.json'), historyToJSON(await server.handle.fetchHistory()));
    fs.writeFileSync(path.join(histories, 'unseen-watch-one-run.json'), historyToJSON(await stack.env.client.workflow.getHandle(first.workflowId).fetchHistory()));
  }
});

it('ends a candidacy when the asset manager confirms the asset missing', async () => {
  const server = await watchedServer('confirmed', [{ source: 'discovery', lastSeenAt: daysAgo(30) }]);
  await watchOnce();
  await eventually(async () => (await actionsOf(server.asset.id)).includes('missing_candidate'));

  const moved = await call(stack, manager.apiKey, 'POST', `/assets/${server.asset.assetTag}/transitions`, { toState: 'missing', note: 'not in the rack' });
  expect(moved.status).toBe(200);
  expect((await server.status()).missingCandidate).toBeNull();
  const ended = (await auditRows(stack.database.db, server.asset.id)).find((row) => row.action === 'missing_candidate_ended');
  expect(ended).toMatchObject({ actor: manager.email, details: expect.objectContaining({ movedTo: 'missing', by: manager.email }) });

  // A missing asset is not watched: nothing is told again.
  await watchOnce();
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(mailsAbout(server.asset.assetTag)).toHaveLength(1);
});

it('makes no candidate of a record a watching feed still sees, nor of one only sources without a period report', async () => {
  // Discovery lost it, but MDM saw it two days ago, within its 30 days.
  const stillSeen = await watchedServer('mdm', [{ source: 'discovery', lastSeenAt: daysAgo(60) }, { source: 'mdm', lastSeenAt: daysAgo(2) }]);
  // Only HR and people report it: they never say a record went missing.
  const unwatched = await watchedServer('hr', [{ source: 'hr', lastSeenAt: daysAgo(400) }, { source: 'manual', lastSeenAt: daysAgo(400) }]);

  await watchOnce();
  await watchOnce();
  await new Promise((resolve) => setTimeout(resolve, 500));

  for (const server of [stillSeen, unwatched]) {
    expect((await server.status()).missingCandidate).toBeNull();
    expect(await actionsOf(server.asset.id)).not.toContain('missing_candidate');
    expect(mailsAbout(server.asset.assetTag)).toHaveLength(0);
    expect((await candidateSince(server.ci.id)).every((since) => since === null)).toBe(true);
  }
});

it('runs from a schedule that startup creates once and a second startup updates', async () => {
  expect(await ensureUnseenWatchSchedule(stack.env.client, { taskQueue: stack.taskQueue, everyMs: 3_600_000 })).toBe('created');
  expect(await ensureUnseenWatchSchedule(stack.env.client, { taskQueue: stack.taskQueue, everyMs: 1_800_000 })).toBe('updated');
  const handle = stack.env.client.schedule.getHandle(UNSEEN_WATCH_SCHEDULE_ID);
  const described = await handle.describe();
  expect(described.spec.intervals).toEqual([expect.objectContaining({ every: 1_800_000 })]);
  expect(described.policies.overlap).toBe('SKIP');
  expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'unseenWatchWorkflow', taskQueue: stack.taskQueue });
  await handle.delete();
});

const unique = () => randomBytes(4).toString('hex');

it('goes the real way: a batch observed long ago makes the server a candidate, a fresh batch and the next run end it', async () => {
  const db = stack.database.db;
  // A known model: a new hardware record gets an asset only then.
  const modelName = `PowerEdge U${unique()}`;
  await createHardwareModel(db, { manufacturer: 'Dell', name: modelName, category: 'server' });
  const row = { ciClass: 'server', serialNumber: `SN-UNSEEN-${unique()}`, hostname: `unseen-${unique()}.corp.example`, model: `Dell ${modelName}` };
  const observedAt = daysAgo(40).toISOString();
  const old = await runInventoryBatch(stack, { source: 'discovery', rows: [row], observedAt, requestedById: manager.id });
  expect(old.rows[0]).toMatchObject({ outcome: 'created' });
  const ciId = old.rows[0].recordId!;
  const { asset_tag: assetTag, asset_id: assetId } = await db('configuration_items as ci').join('assets as a', 'a.id', 'ci.asset_id')
    .where('ci.id', ciId).first('a.asset_tag', 'ci.asset_id');
  const handle = stack.env.client.workflow.getHandle(assetLifecycleWorkflowId(assetTag));
  await eventually(async () => (await handle.describe()).status.name === 'RUNNING');
  const status = () => handle.query(lifecycleStatusQuery);

  await watchOnce();
  const told = await eventually(async () => (await status()).missingCandidate ?? undefined);
  expect(told.lastSeen).toEqual([{ source: 'discovery', lastSeenAt: observedAt }]);
  expect((await candidateSince(ciId)).every((since) => since !== null)).toBe(true);
  // Nobody manages the new asset: the asset managers are told.
  await stack.sink.waitFor((m) => m.subject.startsWith(`${assetTag} not seen by discovery since`) && m.to.includes(manager.email));
  await eventually(async () => (await actionsOf(assetId)).includes('missing_candidate'));

  // The feed sees it now: the batch records the sighting, the next run ends the candidacy.
  const fresh = await runInventoryBatch(stack, { source: 'discovery', rows: [row], requestedById: manager.id });
  expect(fresh.rows[0].recordId).toBe(ciId);
  const [sighting] = await db('ci_sightings').where({ ci_id: ciId, source: 'discovery' }).select('last_seen_at', 'last_import_id');
  expect(sighting).toMatchObject({ last_import_id: fresh.importId });
  expect(fresh.summary.inventory!.observedAt).toBe(sighting.last_seen_at.toISOString());
  const again = await watchOnce();
  expect(again.outcome.seenAgain).toBeGreaterThanOrEqual(1);
  await eventually(async () => (await status()).missingCandidate === null);
  const ended = await eventually(async () => (await auditRows(db, assetId)).find((r) => r.action === 'missing_candidate_ended'));
  expect(ended.details).toMatchObject({ since: told.since, seenAgain: { source: 'discovery', seenAt: sighting.last_seen_at.toISOString() } });
  expect(await candidateSince(ciId)).toEqual([null]);
  expect((await status()).asset.state).toBe('in_use');
});

it('leaves a record a data steward has an open case about alone while the case waits', async () => {
  const db = stack.database.db;
  const server = await watchedServer('held', [{ source: 'discovery', lastSeenAt: daysAgo(40) }]);
  const other = await createCi(db, { name: `srv-held-other-${unique()}`, ciClass: 'server' });
  const ciIds = [server.ci.id, other.id].sort();
  const [{ id: caseId }] = await db('reconciliation_cases')
    .insert({ ci_ids: ciIds, pair_key: pairKeyOf(ciIds), reason: 'serial and host name name two records', state: 'open' })
    .returning('id');

  await watchOnce();
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect((await server.status()).missingCandidate).toBeNull();
  expect(await actionsOf(server.asset.id)).not.toContain('missing_candidate');
  expect(await candidateSince(server.ci.id)).toEqual([null]);

  // Once the case is over, the record is watched like any other.
  await db('reconciliation_cases').where({ id: caseId }).update({ state: 'cancelled' });
  await watchOnce();
  await eventually(async () => (await server.status()).missingCandidate ?? undefined);
});

it('counts a period in days of 24 hours, as the rule does, whatever the time zone of the session', async () => {
  // Summer time ends in Amsterdam at 01:00 UTC on 25 October 2026: calendar days counted back
  // from noon that day span one hour more than days of 24 hours.
  const now = '2026-10-25T12:00:00.000Z';
  const trx = await stack.database.db.transaction();
  try {
    await trx.raw("SET LOCAL TIME ZONE 'Europe/Amsterdam'");
    const period = (await unseenPeriods(trx)).discovery!;
    // Half an hour past the period: a candidate by the rule, still seen by calendar days.
    const lastSeenAt = new Date(Date.parse(now) - period * DAY_MS - 1_800_000);
    const asset = await createAsset(trx, { state: 'in_use' });
    const ci = await createCi(trx, { name: `srv-dst-${unique()}`, ciClass: 'server', assetId: asset.id });
    await trx('ci_sightings').insert({ ci_id: ci.id, source: 'discovery', first_seen_at: lastSeenAt, last_seen_at: lastSeenAt });
    const found = await untoldCandidates(trx, { now, after: null, limit: 1_000_000 });
    expect(found.map((r) => r.ciId)).toContain(ci.id);
  } finally {
    await trx.rollback();
  }
});

it('says on the page of a record no asset backs that a feed lost it, and makes no candidate of it', async () => {
  const db = stack.database.db;
  const s = unique();
  const run = await runInventoryBatch(stack, {
    source: 'discovery', rows: [{ ciClass: 'virtual_machine', hostname: `vm-unseen-${s}`, cloudResourceId: `vm-unseen-${s}` }],
    observedAt: daysAgo(40).toISOString(), requestedById: manager.id,
  });
  expect(run.rows[0]).toMatchObject({ outcome: 'created' });
  const ci = await db('configuration_items').where({ id: run.rows[0].recordId }).first('id', 'number', 'asset_id');
  expect(ci.asset_id).toBeNull();

  await watchOnce();
  expect(await candidateSince(ci.id)).toEqual([null]);

  const period = (await unseenPeriods(db)).discovery!;
  const agent = webAgent(stack.baseUrl);
  expect((await signInWithKey(agent, manager.apiKey)).status).toBe(303);
  const page = (await browse(agent, 'GET', `/ui/cis/${ci.number}`)).html;
  const line = new RegExp(`<p id="lapsed-${ci.number}"[^>]*>([\\s\\S]*?)</p>`).exec(page)?.[1];
  expect(line).toBe(`Not seen by Network discovery for 40 days, past its ${period} days. No asset backs this record, so it is never made a candidate for the missing state: retire it if it is gone.`);
  expect(page).toContain('not seen for 40 days');
});
