/**
 * How the processes run, edited through the API by process owners and admins: change models
 * (a deactivated one takes no new standard change), SLA targets (a changed target is what a
 * process entering the state from then on gets; those in it keep theirs), maintenance and
 * blackout windows (a retired blackout no longer counts in a change's assessment) and reminder
 * days (a lifecycle workflow started after a save takes them; a running one keeps its own).
 * Every change needs the version read (stale 412, none 428) and is audited before and after.
 */
import { randomBytes } from 'node:crypto';
import { assessChangeImpact } from '../model/change-impact';
import { settingSubjectId } from '../model/process-settings';
import { assetLifecycleWorkflowId, lifecycleStatusQuery } from '../workflows/asset-lifecycle/contract';
import { createAsset, createCi, createPerson, type TestPerson } from './support/fixtures';
import { send, startStack, type Stack } from './support/stack';

let stack: Stack;
let owner: TestPerson;
let admin: TestPerson;
let requester: TestPerson;
let assetManager: TestPerson;

beforeAll(async () => {
  stack = await startStack({ reminders: { warrantyDaysBefore: 30, leaseDaysBefore: 30 } });
  const db = stack.database.db;
  owner = await createPerson(db, ['process_owner'], 'Paula Owner');
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  requester = await createPerson(db, ['requester'], 'Remy Requester');
  assetManager = await createPerson(db, ['asset_manager'], 'Asta Manager');
});

afterAll(async () => {
  await stack?.stop();
});

const unique = () => randomBytes(3).toString('hex');
const ifMatch = (version: number | string) => ({ 'if-match': `"${version}"` });

async function auditOf(subjectType: string, subjectId: string) {
  return stack.database.db('audit_log').where({ subject_type: subjectType, subject_id: subjectId }).orderBy('id').select('actor', 'action', 'details');
}

describe('change models', () => {
  it('creates, reads with an ETag, updates with If-Match (stale 412, none 428) and audits each write', async () => {
    const name = `Patch a web server ${unique()}`;
    const created = await send(stack, owner.apiKey, 'POST', '/change-models', { body: { name, description: 'Monthly OS patches', riskCeiling: 'moderate' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name, description: 'Monthly OS patches', riskCeiling: 'moderate', active: true, version: 1 });
    expect(created.headers.get('etag')).toBe('"1"');
    expect(created.headers.get('location')).toBe(`/change-models/${created.body.id}`);
    const path = `/change-models/${created.body.id}`;

    const read = await send(stack, requester.apiKey, 'GET', path);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');

    expect((await send(stack, owner.apiKey, 'PATCH', path, { body: { riskCeiling: 'high' } })).status).toBe(428);
    const updated = await send(stack, admin.apiKey, 'PATCH', path, { body: { riskCeiling: 'high', description: 'OS patches' }, headers: ifMatch(1) });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ riskCeiling: 'high', description: 'OS patches', version: 2 });
    expect(updated.headers.get('etag')).toBe('"2"');
    const stale = await send(stack, owner.apiKey, 'PATCH', path, { body: { name: 'Lost update' }, headers: ifMatch(1) });
    expect(stale.status).toBe(412);
    expect(stale.body.error).toMatchObject({ code: 'version_mismatch', details: { currentVersion: 2 } });
    const same = await send(stack, owner.apiKey, 'PATCH', path, { body: { riskCeiling: 'high' }, headers: ifMatch(2) });
    expect(same.body.version).toBe(2);

    expect(await auditOf('change_model', created.body.id)).toEqual([
      { actor: owner.email, action: 'created', details: expect.objectContaining({ values: { name, description: 'Monthly OS patches', riskCeiling: 'moderate', active: true } }) },
      { actor: admin.email, action: 'updated', details: expect.objectContaining({ changes: { description: { from: 'Monthly OS patches', to: 'OS patches' }, riskCeiling: { from: 'moderate', to: 'high' } } }) },
    ]);
  });

  it('refuses a second model of the same name and a risk ceiling that is not a level', async () => {
    const name = `Rotate certificates ${unique()}`;
    expect((await send(stack, owner.apiKey, 'POST', '/change-models', { body: { name } })).status).toBe(201);
    const taken = await send(stack, owner.apiKey, 'POST', '/change-models', { body: { name: name.toUpperCase() } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('name_taken');
    const badLevel = await send(stack, owner.apiKey, 'POST', '/change-models', { body: { name: `Other ${unique()}`, riskCeiling: 'extreme' } });
    expect(badLevel.status).toBe(400);
    expect(badLevel.body.error.details).toEqual([expect.objectContaining({ path: 'riskCeiling', message: 'one of: low, moderate, high, very_high' })]);
  });

  it('takes a deactivated model out of the list and refuses new standard changes with it', async () => {
    const ci = await createCi(stack.database.db);
    const created = await send(stack, owner.apiKey, 'POST', '/change-models', { body: { name: `Restart a service ${unique()}` } });
    const deactivated = await send(stack, owner.apiKey, 'PATCH', `/change-models/${created.body.id}`, { body: { active: false }, headers: ifMatch(1) });
    expect(deactivated.body).toMatchObject({ active: false, version: 2 });

    const active = await send(stack, requester.apiKey, 'GET', '/change-models');
    expect(active.body.items.map((m: { id: string }) => m.id)).not.toContain(created.body.id);
    const all = await send(stack, requester.apiKey, 'GET', '/change-models?includeInactive=true');
    expect(all.body.items).toContainEqual(expect.objectContaining({ id: created.body.id, active: false, version: 2 }));

    const refused = await send(stack, requester.apiKey, 'POST', '/changes', { body: { type: 'standard', changeModelId: created.body.id, affectedCiIds: [ci.id] } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([{ path: 'changeModelId', message: 'unknown model' }]);
  });
});

describe('SLA targets', () => {
  /** A change's row in a state, as its workflow would write it: the process index takes it from there. */
  async function changeIn(state: string): Promise<string> {
    const db = stack.database.db;
    const [{ id }] = await db('change_requests')
      .insert({ type: 'normal', state, requester_id: requester.id, title: `SLA ${unique()}`, workflow_id: `change:sla-${unique()}` })
      .returning('id');
    return id;
  }
  const indexOf = async (changeId: string) => {
    const row = await stack.database.db('processes').where({ subject_id: changeId }).first('state_entered_at', 'sla_due_at');
    return { minutes: row.sla_due_at && (row.sla_due_at.getTime() - row.state_entered_at.getTime()) / 60_000 };
  };

  it('creates a target without If-Match, changes it with one, and new entries into the state follow the change', async () => {
    const created = await send(stack, owner.apiKey, 'PUT', '/sla-targets/change/review', { body: { minutes: 90 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ process: 'change', state: 'review', minutes: 90, version: 1 });
    expect(created.headers.get('etag')).toBe('"1"');

    const first = await changeIn('implement');
    await stack.database.db('change_requests').where({ id: first }).update({ state: 'review' });
    expect(await indexOf(first)).toEqual({ minutes: 90 });

    const again = await send(stack, owner.apiKey, 'PUT', '/sla-targets/change/review', { body: { minutes: 45 } });
    expect(again.status).toBe(428);
    const changed = await send(stack, admin.apiKey, 'PUT', '/sla-targets/change/review', { body: { minutes: 30 }, headers: ifMatch(1) });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ minutes: 30, version: 2 });
    const stale = await send(stack, owner.apiKey, 'PUT', '/sla-targets/change/review', { body: { minutes: 10 }, headers: ifMatch(1) });
    expect(stale.status).toBe(412);
    expect(stale.body.error.details).toEqual({ currentVersion: 2 });

    // The process already in review keeps the due time it entered with; the next one takes the new target.
    const second = await changeIn('implement');
    await stack.database.db('change_requests').where({ id: second }).update({ state: 'review' });
    expect(await indexOf(first)).toEqual({ minutes: 90 });
    expect(await indexOf(second)).toEqual({ minutes: 30 });

    const listed = await send(stack, requester.apiKey, 'GET', '/sla-targets?process=change');
    expect(listed.body.items).toContainEqual(expect.objectContaining({ process: 'change', state: 'review', minutes: 30, version: 2 }));
    expect((await auditOf('sla_target', settingSubjectId('sla_target', 'change/review'))).map((r) => [r.actor, r.action, r.details.changes ?? r.details.values])).toEqual([
      [owner.email, 'created', { minutes: 90 }],
      [admin.email, 'updated', { minutes: { from: 90, to: 30 } }],
    ]);
  });

  it('refuses a state the process does not have, a final state, a catch-all and minutes out of range, naming the states', async () => {
    const bogus = await send(stack, owner.apiKey, 'PUT', '/sla-targets/procurement/shipping', { body: { minutes: 60 } });
    expect(bogus.status).toBe(400);
    expect(bogus.body.error.details).toEqual([expect.objectContaining({ path: 'state', message: expect.stringMatching(/^shipping is not a state of procurement; its states are: .*budget_check/) })]);
    const final = await send(stack, owner.apiKey, 'PUT', '/sla-targets/change/closed', { body: { minutes: 60 } });
    expect(final.status).toBe(400);
    expect(final.body.error.details[0].message).toMatch(/^closed is a final state/);
    expect((await send(stack, owner.apiKey, 'PUT', '/sla-targets/change/*', { body: { minutes: 60 } })).status).toBe(400);
    expect((await send(stack, owner.apiKey, 'PUT', '/sla-targets/billing/open', { body: { minutes: 60 } })).status).toBe(400);
    const tooLong = await send(stack, owner.apiKey, 'PUT', '/sla-targets/asset_lifecycle/missing', { body: { minutes: 525_601 } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.details).toEqual([expect.objectContaining({ path: 'minutes' })]);
    expect((await send(stack, owner.apiKey, 'PUT', '/sla-targets/asset_lifecycle/missing', { body: { minutes: 0 } })).status).toBe(400);
    expect(await stack.database.db('sla_targets').whereIn('state', ['shipping', 'closed', '*', 'missing']).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  it('removes a target only with its version, audited with what it was', async () => {
    await send(stack, owner.apiKey, 'PUT', '/sla-targets/asset_lifecycle/in_transit', { body: { minutes: 600 } });
    expect((await send(stack, owner.apiKey, 'DELETE', '/sla-targets/asset_lifecycle/in_transit')).status).toBe(428);
    expect((await send(stack, owner.apiKey, 'DELETE', '/sla-targets/asset_lifecycle/in_transit', { headers: ifMatch(2) })).status).toBe(412);
    const removed = await send(stack, owner.apiKey, 'DELETE', '/sla-targets/asset_lifecycle/in_transit', { headers: ifMatch(1) });
    expect(removed.status).toBe(200);
    expect((await send(stack, owner.apiKey, 'GET', '/sla-targets/asset_lifecycle/in_transit')).status).toBe(404);
    const audit = await auditOf('sla_target', settingSubjectId('sla_target', 'asset_lifecycle/in_transit'));
    expect(audit.at(-1)).toMatchObject({ action: 'removed', details: { before: { minutes: 600, version: 1 } } });
  });
});

describe('maintenance and blackout windows', () => {
  it('validates the period, the offset and the CI, naming the field', async () => {
    const ci = await createCi(stack.database.db, { ciClass: 'database' });
    const backwards = await send(stack, owner.apiKey, 'POST', '/schedule-windows', {
      body: { kind: 'blackout', name: 'Backwards', startsAt: '2031-03-02T00:00:00Z', endsAt: '2031-03-01T00:00:00Z' },
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.details).toEqual([expect.objectContaining({ path: 'endsAt', message: 'the window must end after it starts' })]);
    const noOffset = await send(stack, owner.apiKey, 'POST', '/schedule-windows', {
      body: { kind: 'maintenance', name: 'Local time', startsAt: '2031-03-01T22:00:00', endsAt: '2031-03-02T04:00:00Z' },
    });
    expect(noOffset.status).toBe(400);
    expect(noOffset.body.error.details[0].path).toBe('startsAt');
    const unknownCi = await send(stack, owner.apiKey, 'POST', '/schedule-windows', {
      body: { kind: 'blackout', name: 'Ghost', startsAt: '2031-03-01T00:00:00Z', endsAt: '2031-03-02T00:00:00Z', ci: { name: ci.name, ciClass: 'server' } },
    });
    expect(unknownCi.status).toBe(400);
    expect(unknownCi.body.error.details).toEqual([{ path: 'ci', message: `no configuration item ${ci.name} of class server` }]);
    expect(await stack.database.db('schedule_windows').whereIn('name', ['Backwards', 'Local time', 'Ghost']).count({ n: '*' })).toEqual([{ n: 0 }]);

    const created = await send(stack, owner.apiKey, 'POST', '/schedule-windows', {
      body: { kind: 'maintenance', name: `DB patching ${unique()}`, startsAt: '2031-03-01T23:00:00+01:00', endsAt: '2031-03-02T04:00:00Z', ci: { name: ci.name.toUpperCase(), ciClass: 'database' } },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ startsAt: '2031-03-01T22:00:00.000Z', ci: { id: ci.id, name: ci.name, ciClass: 'database' }, version: 1, retiredAt: null });
    const shortened = await send(stack, owner.apiKey, 'PATCH', `/schedule-windows/${created.body.id}`, { body: { endsAt: '2031-03-01T21:00:00Z' }, headers: ifMatch(1) });
    expect(shortened.status).toBe(400);
    expect(shortened.body.error.details[0]).toMatchObject({ path: 'endsAt' });
  });

  it('updates with If-Match, lists by kind and period, and audits', async () => {
    const name = `Year-end freeze ${unique()}`;
    const created = await send(stack, owner.apiKey, 'POST', '/schedule-windows', { body: { kind: 'blackout', name, startsAt: '2032-12-20T00:00:00Z', endsAt: '2033-01-03T00:00:00Z' } });
    const path = `/schedule-windows/${created.body.id}`;
    expect((await send(stack, owner.apiKey, 'PATCH', path, { body: { name: 'x' } })).status).toBe(428);
    const moved = await send(stack, owner.apiKey, 'PATCH', path, { body: { endsAt: '2033-01-05T00:00:00Z' }, headers: ifMatch(1) });
    expect(moved.body).toMatchObject({ endsAt: '2033-01-05T00:00:00.000Z', version: 2 });
    expect((await send(stack, owner.apiKey, 'PATCH', path, { body: { name: 'Lost' }, headers: ifMatch(1) })).status).toBe(412);

    const inDecember = await send(stack, requester.apiKey, 'GET', '/schedule-windows?kind=blackout&from=2032-12-01T00:00:00Z&to=2033-01-01T00:00:00Z');
    expect(inDecember.body.items.map((w: { id: string }) => w.id)).toContain(created.body.id);
    const later = await send(stack, requester.apiKey, 'GET', '/schedule-windows?from=2033-02-01T00:00:00Z');
    expect(later.body.items.map((w: { id: string }) => w.id)).not.toContain(created.body.id);
    const maintenance = await send(stack, requester.apiKey, 'GET', '/schedule-windows?kind=maintenance&from=2032-12-01T00:00:00Z&to=2033-01-01T00:00:00Z');
    expect(maintenance.body.items.map((w: { id: string }) => w.id)).not.toContain(created.body.id);

    expect((await auditOf('schedule_window', created.body.id)).map((r) => r.action)).toEqual(['created', 'updated']);
    expect((await auditOf('schedule_window', created.body.id))[1].details.changes).toEqual({ endsAt: { from: '2033-01-03T00:00:00.000Z', to: '2033-01-05T00:00:00.000Z' } });
  });

  it('a retired blackout no longer appears in a change\'s schedule assessment', async () => {
    const db = stack.database.db;
    const server = await createCi(db, { ciClass: 'server' });
    const [{ id: changeId }] = await db('change_requests').insert({
      type: 'normal', state: 'assess', requester_id: requester.id, title: `Blackout ${unique()}`,
      planned_start: '2034-06-10T10:00:00Z', planned_end: '2034-06-10T12:00:00Z',
    }).returning('id');
    await db('change_affected_cis').insert({ change_request_id: changeId, ci_id: server.id });
    const blackout = await send(stack, owner.apiKey, 'POST', '/schedule-windows', {
      body: { kind: 'blackout', name: `Release freeze ${unique()}`, startsAt: '2034-06-09T00:00:00Z', endsAt: '2034-06-11T00:00:00Z', ci: { name: server.name, ciClass: 'server' } },
    });
    const maintenance = await send(stack, owner.apiKey, 'POST', '/schedule-windows', {
      body: { kind: 'maintenance', name: `Patch window ${unique()}`, startsAt: '2034-06-10T08:00:00Z', endsAt: '2034-06-10T14:00:00Z', ci: { name: server.name, ciClass: 'server' } },
    });
    const before = await assessChangeImpact(db, changeId);
    expect(before.schedule.blackouts.map((w) => w.id)).toEqual([blackout.body.id]);
    expect(before.schedule.maintenanceWindow?.id).toBe(maintenance.body.id);

    expect((await send(stack, requester.apiKey, 'POST', `/schedule-windows/${blackout.body.id}/retire`, { headers: ifMatch(1) })).status).toBe(403);
    expect((await send(stack, owner.apiKey, 'POST', `/schedule-windows/${blackout.body.id}/retire`)).status).toBe(428);
    const retired = await send(stack, owner.apiKey, 'POST', `/schedule-windows/${blackout.body.id}/retire`, { headers: ifMatch(1) });
    expect(retired.status).toBe(200);
    expect(retired.body).toMatchObject({ retiredAt: expect.any(String), version: 2 });
    await send(stack, owner.apiKey, 'POST', `/schedule-windows/${maintenance.body.id}/retire`, { headers: ifMatch(1) });

    const after = await assessChangeImpact(db, changeId);
    expect(after.schedule.blackouts).toEqual([]);
    expect(after.schedule.maintenanceWindow).toBeNull();
    const again = await send(stack, owner.apiKey, 'PATCH', `/schedule-windows/${blackout.body.id}`, { body: { name: 'Revived' }, headers: ifMatch(2) });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('retired');
    const listed = await send(stack, owner.apiKey, 'GET', '/schedule-windows?kind=blackout&from=2034-06-01T00:00:00Z&to=2034-07-01T00:00:00Z');
    expect(listed.body.items.map((w: { id: string }) => w.id)).not.toContain(blackout.body.id);
    const withRetired = await send(stack, owner.apiKey, 'GET', '/schedule-windows?kind=blackout&from=2034-06-01T00:00:00Z&to=2034-07-01T00:00:00Z&includeRetired=true');
    expect(withRetired.body.items.map((w: { id: string }) => w.id)).toContain(blackout.body.id);
  });
});

describe('reminder days', () => {
  const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
  /** When the workflow's next reminder is due, in days before the end date it names (the reminder goes out at 08:00 UTC). */
  async function leadDaysOf(assetTag: string): Promise<number> {
    const status = await stack.env.client.workflow.getHandle(assetLifecycleWorkflowId(assetTag)).query(lifecycleStatusQuery);
    const { endDate, remindAt } = status.nextReminder!;
    return (Date.parse(`${endDate}T08:00:00Z`) - Date.parse(remindAt)) / 86_400_000;
  }

  it('answers the environment\'s defaults as version 0, saves with If-Match, and a lifecycle started afterwards takes the saved days', async () => {
    const db = stack.database.db;
    const defaults = await send(stack, requester.apiKey, 'GET', '/settings/reminders');
    expect(defaults.body).toEqual({ warrantyDaysBefore: 30, leaseDaysBefore: 30, version: 0, source: 'environment', updatedBy: null, updatedAt: null });
    expect(defaults.headers.get('etag')).toBe('"0"');

    // An asset moved before the save: its workflow starts with the environment's 30 days.
    const before = await createAsset(db, { state: 'in_stock', warrantyEnd: inDays(400) });
    expect((await send(stack, assetManager.apiKey, 'POST', `/assets/${before.assetTag}/transitions`, { body: { toState: 'in_use', assignedToId: requester.id } })).status).toBe(200);
    expect(await leadDaysOf(before.assetTag)).toBe(30);

    expect((await send(stack, assetManager.apiKey, 'PUT', '/settings/reminders', { body: { warrantyDaysBefore: 10, leaseDaysBefore: 20 }, headers: ifMatch(0) })).status).toBe(403);
    expect((await send(stack, owner.apiKey, 'PUT', '/settings/reminders', { body: { warrantyDaysBefore: 10, leaseDaysBefore: 20 } })).status).toBe(428);
    const bad = await send(stack, owner.apiKey, 'PUT', '/settings/reminders', { body: { warrantyDaysBefore: 366, leaseDaysBefore: -1 }, headers: ifMatch(0) });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['leaseDaysBefore', 'warrantyDaysBefore']);
    const saved = await send(stack, owner.apiKey, 'PUT', '/settings/reminders', { body: { warrantyDaysBefore: 10, leaseDaysBefore: 20 }, headers: ifMatch(0) });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ warrantyDaysBefore: 10, leaseDaysBefore: 20, version: 1, source: 'saved', updatedBy: owner.email });
    expect(saved.headers.get('etag')).toBe('"1"');
    // A second first save, made on the defaults too, was made without seeing this one.
    const lost = await send(stack, admin.apiKey, 'PUT', '/settings/reminders', { body: { warrantyDaysBefore: 5, leaseDaysBefore: 5 }, headers: ifMatch(0) });
    expect(lost.status).toBe(412);
    expect(lost.body.error.details).toEqual({ currentVersion: 1 });
    expect(await auditOf('setting', settingSubjectId('setting', 'reminders'))).toEqual([
      expect.objectContaining({ actor: owner.email, action: 'created', details: expect.objectContaining({ before: { warrantyDaysBefore: 30, leaseDaysBefore: 30 }, after: { warrantyDaysBefore: 10, leaseDaysBefore: 20 } }) }),
    ]);

    // A lifecycle started now takes 10 and 20 days; the running one keeps its 30.
    const after = await createAsset(db, { state: 'in_stock', warrantyEnd: inDays(400) });
    expect((await send(stack, assetManager.apiKey, 'POST', `/assets/${after.assetTag}/transitions`, { body: { toState: 'in_use', assignedToId: requester.id } })).status).toBe(200);
    expect(await leadDaysOf(after.assetTag)).toBe(10);
    const leased = await createAsset(db, { state: 'in_stock', leaseEnd: inDays(300) });
    expect((await send(stack, assetManager.apiKey, 'POST', `/assets/${leased.assetTag}/transitions`, { body: { toState: 'in_use', assignedToId: requester.id } })).status).toBe(200);
    expect(await leadDaysOf(leased.assetTag)).toBe(20);
    expect((await send(stack, assetManager.apiKey, 'POST', `/assets/${before.assetTag}/transitions`, { body: { toState: 'in_maintenance' } })).status).toBe(200);
    expect(await leadDaysOf(before.assetTag)).toBe(30);

    const changed = await send(stack, admin.apiKey, 'PUT', '/settings/reminders', { body: { warrantyDaysBefore: 45, leaseDaysBefore: 20 }, headers: ifMatch(1) });
    expect(changed.body).toMatchObject({ warrantyDaysBefore: 45, version: 2, updatedBy: admin.email });
    expect((await auditOf('setting', settingSubjectId('setting', 'reminders'))).at(-1)?.details.changes).toEqual({ warrantyDaysBefore: { from: 10, to: 45 } });
  });
});

describe('who may change process settings', () => {
  it('lets process owners and admins write, and refuses everyone else while letting them read', async () => {
    for (const person of [requester, assetManager]) {
      expect((await send(stack, person.apiKey, 'POST', '/change-models', { body: { name: `Not mine ${unique()}` } })).status).toBe(403);
      expect((await send(stack, person.apiKey, 'PUT', '/sla-targets/change/assess', { body: { minutes: 60 } })).status).toBe(403);
      expect((await send(stack, person.apiKey, 'POST', '/schedule-windows', { body: { kind: 'blackout', name: 'Mine', startsAt: '2035-01-01T00:00:00Z', endsAt: '2035-01-02T00:00:00Z' } })).status).toBe(403);
      expect((await send(stack, person.apiKey, 'GET', '/sla-targets')).status).toBe(200);
      expect((await send(stack, person.apiKey, 'GET', '/schedule-windows')).status).toBe(200);
    }
    expect((await send(stack, undefined, 'GET', '/settings/reminders')).status).toBe(401);
    expect((await send(stack, admin.apiKey, 'PUT', '/sla-targets/change/assess', { body: { minutes: 60 } })).status).toBe(201);
  });
});
