/**
 * Approval rules as versioned data through the API, on a real Postgres and Temporal: a condition is
 * checked on save (unknown keys and bad values refused, with what is allowed), each save is a
 * version kept with who saved it, a stale save is refused; the preview shows who would approve a
 * request under proposed rules and writes nothing; and each approval names the rule version that
 * routed it.
 */
import { randomBytes } from 'node:crypto';
import { createCi, createGroup, createPerson, eventually, relate, type TestPerson } from './support/fixtures';
import { call, send, startStack, type Stack } from './support/stack';

let stack: Stack;
let owner: TestPerson;
let admin: TestPerson;
let requesterOnly: TestPerson;

beforeAll(async () => {
  stack = await startStack();
  const db = stack.database.db;
  owner = await createPerson(db, ['process_owner'], 'Petra Process');
  admin = await createPerson(db, ['admin'], 'Ada Admin');
  requesterOnly = await createPerson(db, ['requester'], 'Remy Requester');
});

afterAll(async () => {
  await stack?.stop();
});

const unique = () => randomBytes(3).toString('hex');

const CHANGE_KEYS = 'minRiskLevel, minCriticality, minCostMinor, changeType, overBudget, anyOf';

/**
 * What a refused call or a preview must leave as it was. `rulesOnly` leaves out the tables a change's
 * workflow may still be writing meanwhile (its audit rows), keeping the rules' own audit rows.
 */
async function writes(options: { rulesOnly?: boolean } = {}) {
  const db = stack.database.db;
  const count = async (table: string) => Number((await db(table).count({ n: '*' }))[0].n);
  const audit = db('audit_log').count({ n: '*' });
  if (options.rulesOnly) audit.where({ subject_type: 'approval_rule' });
  return {
    rules: (await db('approval_rules').orderBy('id').select('id', 'version')).map((r) => `${r.id}:${r.version}`).join(','),
    versions: await count('approval_rule_versions'),
    audit: Number((await audit)[0].n),
    ...(options.rulesOnly ? {} : { approvals: await count('approvals') }),
  };
}

const postRule = (person: TestPerson, body: Record<string, unknown>) => call(stack, person.apiKey, 'POST', '/approval-rules', body);
const patchRule = (person: TestPerson, id: string, body: Record<string, unknown>, ifMatch?: string) =>
  send(stack, person.apiKey, 'PATCH', `/approval-rules/${id}`, { body, headers: ifMatch ? { 'if-match': ifMatch } : {} });

describe('saving a rule', () => {
  it('refuses an unknown condition key with the keys allowed, and a bad value with the values allowed, writing nothing', async () => {
    const before = await writes();
    const base = { process: 'change', stepOrder: 1, name: `Typo ${unique()}`, approverKind: 'manager' };

    const unknownKey = await postRule(owner, { ...base, appliesWhen: { anyOf: [{ minRiskLevel: 'high' }, { minRisk: 'high' }] } });
    expect(unknownKey.status).toBe(400);
    expect(unknownKey.body.error.details).toEqual([{ path: 'appliesWhen.anyOf.1.minRisk', message: `unknown condition key "minRisk": a change rule may use ${CHANGE_KEYS}` }]);

    const otherProcess = await postRule(owner, { ...base, appliesWhen: { newVendor: true } });
    expect(otherProcess.status).toBe(400);
    expect(otherProcess.body.error.details[0].message).toBe(`newVendor is not known of a change request: a change rule may use ${CHANGE_KEYS}`);

    const badValue = await postRule(owner, { ...base, appliesWhen: { minRiskLevel: 'severe', minCostMinor: 12.5 } });
    expect(badValue.status).toBe(400);
    expect(badValue.body.error.details).toEqual([
      { path: 'appliesWhen.minRiskLevel', message: 'minRiskLevel must be one of low, moderate, high, very_high, not "severe"' },
      { path: 'appliesWhen.minCostMinor', message: 'minCostMinor must be a whole number of minor units from 0 to 10000000000000, not 12.5' },
    ]);

    const noGroup = await postRule(owner, { ...base, approverKind: 'group', group: `Nobody ${unique()}` });
    expect(noGroup.status).toBe(400);
    expect(noGroup.body.error.details[0].path).toBe('group');

    expect((await postRule(requesterOnly, { ...base, appliesWhen: {} })).status).toBe(403);
    expect(await writes()).toEqual(before);
  });

  it('keeps every save as a version with who saved it, audits it, and refuses a stale or blind save', async () => {
    const db = stack.database.db;
    const members = [await createPerson(db, ['approver'], 'Fiona Finance'), await createPerson(db, ['approver'], 'Felix Finance')];
    const groupName = `Finance ${unique()}`;
    await createGroup(db, members.map((m) => m.id), groupName);
    const name = `Finance ${unique()}`;

    const created = await postRule(owner, {
      process: 'procurement', stepOrder: 3, name, appliesWhen: { minCostMinor: 9_000_000_000_000 }, approverKind: 'group', group: groupName.toUpperCase(),
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body).toMatchObject({ version: 1, group: groupName, policy: 'any', quorum: null, onExpiry: 'reject', active: true, updatedBy: owner.email });
    const read = await send(stack, requesterOnly.apiKey, 'GET', `/approval-rules/${id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');

    const condition = { anyOf: [{ minCostMinor: 9_000_000_000_000 }, { overBudget: true }] };
    const saved = await patchRule(admin, id, { appliesWhen: condition, policy: 'quorum', quorum: 2 }, '"1"');
    expect(saved.status).toBe(200);
    expect(saved.headers.get('etag')).toBe('"2"');
    expect(saved.body).toMatchObject({ version: 2, appliesWhen: condition, policy: 'quorum', quorum: 2, updatedBy: admin.email });

    const versions = await call(stack, requesterOnly.apiKey, 'GET', `/approval-rules/${id}/versions`);
    expect(versions.status).toBe(200);
    expect(versions.body.versions.map((v: { version: number; savedBy: string }) => [v.version, v.savedBy])).toEqual([[2, admin.email], [1, owner.email]]);
    expect(versions.body.versions[1].rule).toMatchObject({ appliesWhen: { minCostMinor: 9_000_000_000_000 }, policy: 'any', group: groupName });
    expect(versions.body.versions[0].rule).toMatchObject({ appliesWhen: condition, policy: 'quorum', quorum: 2 });
    expect(await db('approval_rule_versions').where({ rule_id: id }).orderBy('version').select('version', 'saved_by')).toEqual([
      { version: 1, saved_by: owner.email }, { version: 2, saved_by: admin.email },
    ]);
    const audit = await db('audit_log').where({ subject_type: 'approval_rule', subject_id: id }).orderBy('id').select('actor', 'action', 'details');
    expect(audit.map((a) => [a.actor, a.action])).toEqual([[owner.email, 'approval_rule_created'], [admin.email, 'approval_rule_updated']]);
    expect(audit[1].details).toMatchObject({
      version: { before: 1, after: 2 },
      before: { appliesWhen: { minCostMinor: 9_000_000_000_000 }, policy: 'any', quorum: null },
      after: { appliesWhen: condition, policy: 'quorum', quorum: 2 },
    });

    const before = await writes();
    const stale = await patchRule(owner, id, { name: `${name} (stale)` }, '"1"');
    expect(stale.status).toBe(412);
    expect(stale.body.error).toMatchObject({ code: 'version_mismatch', details: { currentVersion: 2 } });
    expect((await patchRule(owner, id, { name: `${name} (blind)` })).status).toBe(428);
    const badValue = await patchRule(owner, id, { appliesWhen: { overBudget: 'yes' } }, '"2"');
    expect(badValue.status).toBe(400);
    expect(badValue.body.error.details).toEqual([{ path: 'appliesWhen.overBudget', message: 'overBudget must be true or false, not "yes"' }]);
    // The same values again, keys in another order: nothing changes, so no new version and no audit row.
    const same = await patchRule(owner, id, { appliesWhen: { anyOf: [{ minCostMinor: 9_000_000_000_000 }, { overBudget: true }] }, quorum: 2 }, '"2"');
    expect(same.status).toBe(200);
    expect(same.body.version).toBe(2);
    expect(await writes()).toEqual(before);

    const retired = await patchRule(owner, id, { active: false }, '"2"');
    expect(retired.status).toBe(200);
    expect(retired.body).toMatchObject({ version: 3, active: false });
    const retiredList = await call(stack, owner.apiKey, 'GET', '/approval-rules?process=procurement&active=false');
    expect(retiredList.body.items.map((r: { id: string }) => r.id)).toContain(id);
    const activeList = await call(stack, owner.apiKey, 'GET', '/approval-rules?process=procurement&active=true');
    expect(activeList.body.items.map((r: { id: string }) => r.id)).not.toContain(id);
    expect((await db('audit_log').where({ subject_id: id }).orderBy('id', 'desc').first('action')).action).toBe('approval_rule_retired');
  });
});

/** A requester with a manager, and a tier-1 service (with its owner) that depends on an application that runs on a server. */
async function serviceMap() {
  const db = stack.database.db;
  const manager = await createPerson(db, ['approver'], 'Mona Manager');
  const requester = await createPerson(db, ['requester'], 'Rita Requester', { managerId: manager.id });
  const serviceOwner = await createPerson(db, ['approver'], 'Sam Service');
  const server = await createCi(db, { name: `srv-${unique()}`, ciClass: 'server' });
  const app = await createCi(db, { name: `app-${unique()}`, ciClass: 'application' });
  const service = await createCi(db, { name: `Billing ${unique()}`, ciClass: 'business_service', criticality: 'tier_1', ownerId: serviceOwner.id });
  await relate(db, app.id, 'runs_on', server.id);
  await relate(db, service.id, 'depends_on', app.id);
  return { manager, requester, serviceOwner, server };
}

type PreviewStep = { rule: { id: string | null; name: string; version: number | 'proposed' }; policy: string; required: number; approvers: { name: string; email: string }[]; notes: string[] };
const stepNamed = (steps: PreviewStep[], name: string) => steps.find((s) => s.rule.name === name);

describe('the preview', () => {
  it('names the approvers of proposed rules (a group rule by its members) for a change not made yet, and writes nothing', async () => {
    const db = stack.database.db;
    const s = await serviceMap();
    const cab = [await createPerson(db, ['approver'], 'Cleo Cab'), await createPerson(db, ['approver'], 'Carl Cab'), s.requester];
    const cabName = `CAB ${unique()}`;
    await createGroup(db, cab.map((p) => p.id), cabName);
    const cabRule = `CAB ${unique()}`;
    const ownersRule = `Service owners ${unique()}`;
    const before = await writes();

    const preview = await call(stack, owner.apiKey, 'POST', '/approval-rules/preview', {
      process: 'change',
      subject: { requesterEmail: s.requester.email, costMinor: 50_000, riskLevel: 'high', affectedCis: [{ name: s.server.name, ciClass: 'server' }] },
      proposed: [
        { stepOrder: 7, name: cabRule, appliesWhen: { minRiskLevel: 'high' }, approverKind: 'group', group: cabName, policy: 'quorum', quorum: 3 },
        { stepOrder: 8, name: ownersRule, appliesWhen: { minCriticality: 'tier_1' }, approverKind: 'service_owner', policy: 'all' },
        { stepOrder: 9, name: `Emergencies ${unique()}`, appliesWhen: { changeType: 'emergency' }, approverKind: 'manager' },
      ],
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ process: 'change', number: null, requester: { email: s.requester.email }, subject: { riskLevel: 'high', highestCriticality: 'tier_1', costMinor: 50_000 } });
    const steps: PreviewStep[] = preview.body.steps;
    const cabStep = stepNamed(steps, cabRule)!;
    expect(cabStep).toMatchObject({ rule: { id: null, version: 'proposed' }, policy: 'quorum', required: 2 });
    expect(cabStep.approvers.map((a) => a.email)).toEqual([cab[1].email, cab[0].email]);
    expect(cabStep.notes).toEqual(['requester excluded (segregation of duties)', 'quorum lowered from 3 to 2: only 2 approvers']);
    expect(stepNamed(steps, ownersRule)!.approvers).toEqual([{ name: s.serviceOwner.name, email: s.serviceOwner.email, delegatedFrom: null }]);
    expect(steps.some((step) => step.rule.name.startsWith('Emergencies'))).toBe(false);
    expect(await writes()).toEqual(before);

    const refused = await call(stack, owner.apiKey, 'POST', '/approval-rules/preview', {
      process: 'change',
      subject: { requesterEmail: s.requester.email, newVendor: true },
      proposed: [{ stepOrder: 1, name: 'Typo', approverKind: 'manager', appliesWhen: { minRisk: 'high' } }],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([{ path: 'subject.newVendor', message: 'only a procurement request has newVendor', code: 'custom' }]);
    const badProposal = await call(stack, owner.apiKey, 'POST', '/approval-rules/preview', {
      process: 'change',
      subject: { requesterEmail: s.requester.email },
      proposed: [{ stepOrder: 1, name: 'Typo', approverKind: 'manager', appliesWhen: { minRisk: 'high' } }],
    });
    expect(badProposal.status).toBe(400);
    expect(badProposal.body.error.details).toEqual([{ path: 'proposed.0.appliesWhen.minRisk', message: `unknown condition key "minRisk": a change rule may use ${CHANGE_KEYS}` }]);
    expect((await call(stack, requesterOnly.apiKey, 'POST', '/approval-rules/preview', { process: 'change', subject: { requesterEmail: s.requester.email } })).status).toBe(403);
    expect(await writes()).toEqual(before);
  });

  it('plans an existing change from its stored assessment', async () => {
    const db = stack.database.db;
    const s = await serviceMap();
    const created = await call(stack, s.requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Patch the billing server', affectedCiIds: [s.server.id] });
    expect([201, 202]).toContain(created.status);
    const { id, number } = created.body;
    const change = await eventually<{ risk_level: string }>(() => db('change_requests').where({ id }).whereNotNull('risk_level').first('risk_level'));
    const ownersRule = `Service owners ${unique()}`;
    const managerRule = `Manager ${unique()}`;
    const before = await writes({ rulesOnly: true });

    const preview = await call(stack, owner.apiKey, 'POST', '/approval-rules/preview', {
      number: number.toLowerCase(),
      proposed: [
        { stepOrder: 8, name: ownersRule, appliesWhen: { minCriticality: 'tier_1' }, approverKind: 'service_owner' },
        { stepOrder: 9, name: managerRule, appliesWhen: { changeType: 'normal' }, approverKind: 'manager' },
      ],
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ process: 'change', number, requester: { email: s.requester.email }, subject: { changeType: 'normal', riskLevel: change.risk_level, highestCriticality: 'tier_1' } });
    expect(stepNamed(preview.body.steps, ownersRule)!.approvers.map((a) => a.email)).toEqual([s.serviceOwner.email]);
    expect(stepNamed(preview.body.steps, managerRule)!.approvers.map((a) => a.email)).toEqual([s.manager.email]);
    expect(await writes({ rulesOnly: true })).toEqual(before);

    const unknown = await call(stack, owner.apiKey, 'POST', '/approval-rules/preview', { number: 'CHG9999999' });
    expect(unknown.status).toBe(404);
  });
});

describe('each approval names the rule version that routed it', () => {
  it('writes the rule and its version on the approvals of a change, and a new version on the approvals after a save', async () => {
    const db = stack.database.db;
    const s = await serviceMap();
    const name = `Line manager ${unique()}`;
    const rule = await postRule(owner, { process: 'change', stepOrder: 1, name, appliesWhen: {}, approverKind: 'manager' });
    expect(rule.status).toBe(201);
    const ruleId = rule.body.id;

    const submit = async () => {
      const created = await call(stack, s.requester.apiKey, 'POST', '/changes', { type: 'normal', title: 'Patch the billing server', affectedCiIds: [s.server.id] });
      expect([201, 202]).toContain(created.status);
      const id: string = created.body.id;
      const approvals = await eventually(async () => {
        const rows = await db('approvals').where({ subject_id: id }).select('rule_id', 'rule_version', 'step_name', 'approver_id');
        return rows.length > 0 ? rows : undefined;
      });
      return { id, approvals };
    };

    const first = await submit();
    expect(first.approvals).toEqual([{ rule_id: ruleId, rule_version: 1, step_name: name, approver_id: s.manager.id }]);
    const shown = await call(stack, owner.apiKey, 'GET', `/changes/${first.id}`);
    expect(shown.body.approvals[0].rule).toEqual({ id: ruleId, name, version: 1 });

    const renamed = `${name} (v2)`;
    const saved = await patchRule(owner, ruleId, { name: renamed, onExpiry: 'escalate' }, '"1"');
    expect(saved.status).toBe(200);
    expect(saved.body.version).toBe(2);

    const second = await submit();
    expect(second.approvals).toEqual([{ rule_id: ruleId, rule_version: 2, step_name: renamed, approver_id: s.manager.id }]);
    expect(await db('approvals').where({ subject_id: first.id }).select('rule_id', 'rule_version')).toEqual([{ rule_id: ruleId, rule_version: 1 }]);
    // The first change still shows the rule as that version had it.
    expect((await call(stack, owner.apiKey, 'GET', `/changes/${first.id}`)).body.approvals[0].rule).toEqual({ id: ruleId, name, version: 1 });
    expect((await call(stack, owner.apiKey, 'GET', `/changes/${second.id}`)).body.approvals[0].rule).toEqual({ id: ruleId, name: renamed, version: 2 });
  });
});
