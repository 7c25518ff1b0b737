/**
 * The configuration pages through the web UI, as a process owner: the approval rule form refuses a
 * condition with the API's message next to the field (and writes nothing), saves a good one as a
 * new version, refuses a save made on an older version; the preview page names who would approve.
 * Other roles get 403.
 */
import { randomBytes } from 'node:crypto';
import { createGroup, createPerson, type TestPerson } from './support/fixtures';
import { startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent, type WebAgent } from './support/web-agent';

let stack: Stack;
let owner: TestPerson;
let agent: WebAgent;
let csrf: string;

const RULES = '/ui/configuration/approval-rules';

beforeAll(async () => {
  stack = await startStack({ worker: false });
  owner = await createPerson(stack.database.db, ['process_owner'], 'Petra Process');
  agent = webAgent(stack.baseUrl);
  expect((await signInWithKey(agent, owner.apiKey)).status).toBe(303);
  csrf = hiddenCsrf((await browse(agent, 'GET', '/ui/configuration')).html)!;
});

afterAll(async () => {
  await stack?.stop();
});

const unique = () => randomBytes(3).toString('hex');

const inputValue = (html: string, name: string) => new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(html)?.[1];

async function writes() {
  const db = stack.database.db;
  const count = async (table: string) => Number((await db(table).count({ n: '*' }))[0].n);
  return {
    rules: (await db('approval_rules').orderBy('id').select('id', 'version')).map((r) => `${r.id}:${r.version}`).join(','),
    versions: await count('approval_rule_versions'),
    audit: await count('audit_log'),
  };
}

const ruleForm = (fields: Record<string, string>) => ({
  csrf, process: 'change', stepOrder: '2', approverKind: 'manager', group: '', policy: 'any', quorum: '', onExpiry: 'reject', active: 'yes', ...fields,
});

it('links the rules and the process settings from the configuration page, for process owners and admins only', async () => {
  const index = await browse(agent, 'GET', '/ui/configuration');
  expect(index.status).toBe(200);
  expect(index.html).toContain(`href="${RULES}"`);
  expect(index.html).toContain('href="/ui/configuration/process-settings"');
  expect(index.html).toContain('href="/ui/configuration" aria-current="page"');

  const requester = await createPerson(stack.database.db, ['requester', 'approver'], 'Rob Requester');
  const other = webAgent(stack.baseUrl);
  await signInWithKey(other, requester.apiKey);
  expect((await browse(other, 'GET', RULES)).status).toBe(403);
  expect((await browse(other, 'GET', `${RULES}/preview`)).status).toBe(403);
});

it('shows a refused condition next to its field, saves a good one as a new version, and refuses a stale save', async () => {
  const db = stack.database.db;
  const name = `Manager ${unique()}`;
  const before = await writes();

  const refused = await browse(agent, 'POST', RULES, ruleForm({ name, appliesWhen: '{"anyOf": [{"minRisk": "high"}]}' }));
  expect(refused.status).toBe(400);
  expect(refused.html).toContain('<a href="#f-appliesWhen">Condition (JSON): anyOf.0.minRisk: unknown condition key &quot;minRisk&quot;: a change rule may use minRiskLevel, minCriticality, minCostMinor, changeType, overBudget, anyOf</a>');
  expect(refused.html).toMatch(/<textarea id="f-appliesWhen" name="appliesWhen" aria-invalid="true" aria-describedby="f-appliesWhen-error f-appliesWhen-hint"/);
  expect(refused.html).toContain('<p id="f-appliesWhen-error" class="notice error">anyOf.0.minRisk: unknown condition key');
  expect(inputValue(refused.html, 'name')).toBe(name);

  const badValue = await browse(agent, 'POST', RULES, ruleForm({ name, appliesWhen: '{"minRiskLevel": "severe"}' }));
  expect(badValue.status).toBe(400);
  expect(badValue.html).toContain('minRiskLevel: minRiskLevel must be one of low, moderate, high, very_high, not &quot;severe&quot;');
  const notJson = await browse(agent, 'POST', RULES, ruleForm({ name, appliesWhen: '{minRiskLevel: high}' }));
  expect(notJson.status).toBe(400);
  expect(notJson.html).toContain('Condition (JSON): not valid JSON');
  expect(await writes()).toEqual(before);

  const created = await browse(agent, 'POST', RULES, ruleForm({ name, appliesWhen: '{"minRiskLevel": "high"}' }));
  expect(created.status).toBe(303);
  const [, id] = new RegExp(`^${RULES}/([0-9a-f-]{36})\\?done=created$`).exec(created.location!)!;
  expect(await db('approval_rules').where({ id }).first()).toMatchObject({ name, step_order: 2, applies_when: { minRiskLevel: 'high' }, version: 1, updated_by: owner.email });

  const page = await browse(agent, 'GET', `${RULES}/${id}`);
  expect(page.status).toBe(200);
  expect(inputValue(page.html, 'version')).toBe('1');
  const save = (version: string, appliesWhen: string) => browse(agent, 'POST', `${RULES}/${id}`, ruleForm({ version, name, appliesWhen }));
  expect(await save('1', '{"anyOf": [{"minRiskLevel": "high"}, {"changeType": "emergency"}]}')).toMatchObject({ status: 303, location: `${RULES}/${id}?done=saved` });
  expect(await db('approval_rules').where({ id }).first('version', 'applies_when')).toEqual({ version: 2, applies_when: { anyOf: [{ minRiskLevel: 'high' }, { changeType: 'emergency' }] } });

  const saved = await writes();
  const stale = await save('1', '{}');
  expect(stale.status).toBe(412);
  expect(stale.html).toContain('This rule changed since you read it (it is now at version 2), so nothing was saved.');
  expect(inputValue(stale.html, 'version')).toBe('2');
  expect(await writes()).toEqual(saved);

  // The edit sent to the preview instead of saved: it becomes the proposed rule, in place of the stored one.
  const previewEdit = await browse(agent, 'POST', `${RULES}/preview`, ruleForm({ intent: 'preview-edit', ruleId: id, version: '2', name, appliesWhen: '{"changeType": "emergency"}' }));
  expect(previewEdit.status).toBe(200);
  expect(previewEdit.html).toContain(`&quot;id&quot;: &quot;${id}&quot;`);
  expect(previewEdit.html).toContain('&quot;appliesWhen&quot;: {\n      &quot;changeType&quot;: &quot;emergency&quot;');
  expect(previewEdit.html).toContain('value="proposed" checked');
  expect(await writes()).toEqual(saved);

  const versions = await browse(agent, 'GET', `${RULES}/${id}/versions`);
  expect(versions.status).toBe(200);
  expect(versions.html.match(/<td>petra\.process\.[0-9a-f]+@assetflow\.test<\/td>/g)).toHaveLength(2);
  expect(versions.html).toContain('{&quot;minRiskLevel&quot;:&quot;high&quot;}');
});

it('names who would approve a change under a proposed group rule, and writes nothing', async () => {
  const db = stack.database.db;
  const manager = await createPerson(db, ['approver'], 'Mona Manager');
  const requester = await createPerson(db, ['requester'], 'Rita Requester', { managerId: manager.id });
  const members = [await createPerson(db, ['approver'], 'Cleo Cab'), await createPerson(db, ['approver'], 'Carl Cab')];
  const cab = `CAB ${unique()}`;
  await createGroup(db, members.map((m) => m.id), cab);
  const rule = `CAB ${unique()}`;
  const before = await writes();

  const form = await browse(agent, 'GET', `${RULES}/preview`);
  expect(form.status).toBe(200);
  const preview = await browse(agent, 'POST', `${RULES}/preview`, {
    csrf, number: '', process: 'change', requesterEmail: requester.email, costCentre: '', costMinor: '150000', riskLevel: 'high', changeType: '', highestCriticality: '',
    overBudget: '', newVendor: '', offCatalogue: '', affectedCis: '', rules: 'proposed',
    proposed: JSON.stringify({ stepOrder: 5, name: rule, appliesWhen: { minRiskLevel: 'high' }, approverKind: 'group', group: cab, policy: 'all' }),
  });
  expect(preview.status).toBe(200);
  expect(preview.html).toContain(`${rule} <span class="meta">proposed</span>`);
  for (const m of members) expect(preview.html).toContain(`<li>${m.name} <span class="meta">${m.email}</span></li>`);
  expect(preview.html).toContain('all, 2 required');

  const refused = await browse(agent, 'POST', `${RULES}/preview`, {
    csrf, number: '', process: 'change', requesterEmail: `nobody.${unique()}@assetflow.test`, costMinor: '', rules: 'current', proposed: '',
  });
  expect(refused.status).toBe(400);
  expect(refused.html).toContain('<a href="#f-requesterEmail">Requester&#39;s email: no person with the email');
  expect(await writes()).toEqual(before);
});
