/**
 * The process settings page of the web UI, as a process owner: change models, SLA targets,
 * windows and reminder days are saved through its forms with the same rules and writes as the
 * API; a refusal names each field in a summary and next to the field (marked invalid), and a save
 * made on a version someone changed since writes nothing and says so. Other roles get 403.
 */
import { randomBytes } from 'node:crypto';
import { createCi, createPerson, type TestPerson } from './support/fixtures';
import { startStack, type Stack } from './support/stack';
import { browse, hiddenCsrf, signInWithKey, webAgent, type WebAgent } from './support/web-agent';

const PAGE = '/ui/configuration/process-settings';

let stack: Stack;
let owner: TestPerson;
let agent: WebAgent;
let csrf: string;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  owner = await createPerson(stack.database.db, ['process_owner'], 'Paula Owner');
  agent = webAgent(stack.baseUrl);
  expect((await signInWithKey(agent, owner.apiKey)).status).toBe(303);
  csrf = hiddenCsrf((await browse(agent, 'GET', PAGE)).html)!;
});

afterAll(async () => {
  await stack?.stop();
});

const unique = () => randomBytes(3).toString('hex');
const post = (path: string, form: Record<string, string>) => browse(agent, 'POST', path, { csrf, ...form });
const auditCount = async () => Number((await stack.database.db('audit_log').count({ n: '*' }))[0].n);
/** The input with this id, as markup. */
const inputTag = (html: string, id: string) => new RegExp(`<(input|select)[^>]*id="${id}"[^>]*>`).exec(html)?.[0] ?? '';

it('shows the four sections to a process owner and refuses other roles', async () => {
  const page = await browse(agent, 'GET', PAGE);
  expect(page.status).toBe(200);
  for (const heading of ['Change models', 'SLA targets', 'Maintenance and blackout windows', 'Reminder days']) expect(page.html).toContain(`>${heading}</h2>`);
  expect(page.html).toContain('Nothing saved yet: these are the environment');

  const requester = await createPerson(stack.database.db, ['requester'], 'Remy Requester');
  const other = webAgent(stack.baseUrl);
  await signInWithKey(other, requester.apiKey);
  expect((await browse(other, 'GET', PAGE)).status).toBe(403);
  const otherCsrf = hiddenCsrf((await browse(other, 'GET', '/ui/api-keys')).html)!;
  expect((await browse(other, 'POST', `${PAGE}/reminders`, { csrf: otherCsrf, warrantyDaysBefore: '1', leaseDaysBefore: '1', version: '0' })).status).toBe(403);
  expect(await stack.database.db('settings').count({ n: '*' })).toEqual([{ n: 0 }]);
});

it('adds a change model, shows a missing name next to its field, and refuses a stale edit with the current values', async () => {
  const before = await auditCount();
  const missing = await post(`${PAGE}/change-models`, { name: ' ', description: 'No name', riskCeiling: 'low', active: 'yes' });
  expect(missing.status).toBe(400);
  expect(missing.html).toContain('<a href="#new-model-name">Name</a>: required');
  expect(inputTag(missing.html, 'new-model-name')).toContain('aria-invalid="true"');
  expect(inputTag(missing.html, 'new-model-name')).toContain('aria-describedby="new-model-name-error"');
  expect(missing.html).toContain('value="No name"');
  expect(await auditCount()).toBe(before);

  const name = `Swap a disk ${unique()}`;
  const created = await post(`${PAGE}/change-models`, { name, description: 'Hot-swap', riskCeiling: 'moderate', active: 'yes' });
  expect(created.status).toBe(303);
  const modelPath = created.location!.replace(/\?.*$/, '');
  const id = modelPath.split('/').at(-1)!;
  expect(await stack.database.db('change_models').where({ id }).first('name', 'risk_ceiling', 'active', 'version')).toEqual({ name, risk_ceiling: 'moderate', active: true, version: 1 });

  const saved = await post(modelPath, { version: '1', name, description: 'Hot-swap a failed disk', riskCeiling: 'moderate' });
  expect(saved.status).toBe(303);
  expect(await stack.database.db('change_models').where({ id }).first('description', 'active', 'version')).toEqual({ description: 'Hot-swap a failed disk', active: false, version: 2 });

  const stale = await post(modelPath, { version: '1', name: 'Lost update', description: '', riskCeiling: 'high', active: 'yes' });
  expect(stale.status).toBe(412);
  expect(stale.html).toContain('Someone else changed this change model while you were editing (it is now at version 2), so nothing was saved.');
  expect(stale.html).toContain('value="Hot-swap a failed disk"');
  expect(stale.html).toContain('name="version" value="2"');
  expect(await stack.database.db('change_models').where({ id }).first('name')).toEqual({ name });
});

it('sets an SLA target, names a state the process cannot wait in, and refuses a stale row edit', async () => {
  const final = await post(`${PAGE}/sla-targets`, { target: 'change/closed', minutes: '60', version: '' });
  expect(final.status).toBe(400);
  expect(final.html).toMatch(/<a href="#sla-target">Process and state<\/a>: closed is a final state/);
  expect(inputTag(final.html, 'sla-target')).toContain('aria-invalid="true"');
  const tooMany = await post(`${PAGE}/sla-targets`, { target: 'procurement/authorize', minutes: '600000', version: '' });
  expect(tooMany.status).toBe(400);
  expect(tooMany.html).toContain('id="sla-minutes-error" class="notice error">at most 525600 minutes (a year)');

  expect((await post(`${PAGE}/sla-targets`, { target: 'procurement/authorize', minutes: '2880', version: '' })).location).toBe(`${PAGE}?done=target-saved`);
  const page = await browse(agent, 'GET', `${PAGE}?done=target-saved`);
  expect(page.html).toContain('The SLA target is saved');
  expect(page.html).toMatch(/Purchase: authorize<\/th>[\s\S]*?value="2880"/);

  const again = await post(`${PAGE}/sla-targets`, { target: 'procurement/authorize', minutes: '100', version: '' });
  expect(again.status).toBe(428);
  expect(again.html).toContain('has a target already, so nothing was saved');
  expect((await post(`${PAGE}/sla-targets`, { target: 'procurement/authorize', minutes: '1440', version: '1' })).status).toBe(303);
  const stale = await post(`${PAGE}/sla-targets`, { target: 'procurement/authorize', minutes: '60', version: '1' });
  expect(stale.status).toBe(412);
  expect(stale.html).toContain('it is now at version 2');
  expect(await stack.database.db('sla_targets').where({ process: 'procurement', state: 'authorize' }).first('target_minutes', 'version')).toEqual({ target_minutes: 1440, version: 2 });

  expect((await post(`${PAGE}/sla-targets/remove`, { target: 'procurement/authorize', version: '2' })).location).toBe(`${PAGE}?done=target-removed`);
  expect(await stack.database.db('sla_targets').where({ process: 'procurement', state: 'authorize' }).first()).toBeUndefined();
});

it('adds a window, shows an end before the start and an unknown CI next to their fields, and retires it', async () => {
  const ci = await createCi(stack.database.db, { ciClass: 'server' });
  const form = { kind: 'blackout', name: `Go-live freeze ${unique()}`, startsAt: '2031-05-02T00:00:00+02:00', endsAt: '2031-05-01T00:00:00Z', ciName: '', ciClass: '' };
  const backwards = await post(`${PAGE}/windows`, form);
  expect(backwards.status).toBe(400);
  expect(backwards.html).toContain('<a href="#new-window-endsAt">Ends at</a>: the window must end after it starts');
  expect(inputTag(backwards.html, 'new-window-endsAt')).toContain('aria-invalid="true"');
  expect(inputTag(backwards.html, 'new-window-startsAt')).not.toContain('aria-invalid');

  const ghost = await post(`${PAGE}/windows`, { ...form, endsAt: '2031-05-03T00:00:00Z', ciName: 'no-such-ci', ciClass: 'server' });
  expect(ghost.status).toBe(400);
  expect(ghost.html).toContain('id="new-window-ci-error" class="notice error">no configuration item no-such-ci of class server');
  expect(inputTag(ghost.html, 'new-window-ciName')).toContain('aria-invalid="true"');

  const created = await post(`${PAGE}/windows`, { ...form, endsAt: '2031-05-03T00:00:00Z', ciName: ci.name, ciClass: 'server' });
  expect(created.location).toBe(`${PAGE}?done=window-created`);
  const { id } = await stack.database.db('schedule_windows').where({ name: form.name }).first('id');
  const windowPath = `${PAGE}/windows/${id}`;
  const page = await browse(agent, 'GET', windowPath);
  expect(page.html).toContain(`value="${ci.name}"`);

  expect((await post(`${windowPath}/retire`, { version: '1' })).status).toBe(400);
  const retired = await post(`${windowPath}/retire`, { version: '1', confirm: 'yes' });
  expect(retired.location).toBe(`${windowPath}?done=retired`);
  expect((await browse(agent, 'GET', retired.location!)).html).toContain('no longer counts in change assessments and cannot be changed');
  expect((await stack.database.db('schedule_windows').where({ id }).first('retired_at')).retired_at).not.toBeNull();
  expect((await browse(agent, 'GET', PAGE)).html).not.toContain(form.name);
});

it('saves the reminder days over the defaults and refuses a second save made on the defaults', async () => {
  const bad = await post(`${PAGE}/reminders`, { warrantyDaysBefore: '400', leaseDaysBefore: 'soon', version: '0' });
  expect(bad.status).toBe(400);
  expect(bad.html).toContain('<a href="#reminders-warrantyDaysBefore">Days before a warranty ends</a>: at most 365 days');
  expect(bad.html).toContain('<a href="#reminders-leaseDaysBefore">Days before a lease ends</a>: not a whole number');
  expect(inputTag(bad.html, 'reminders-leaseDaysBefore')).toContain('value="soon"');

  expect((await post(`${PAGE}/reminders`, { warrantyDaysBefore: '21', leaseDaysBefore: '7', version: '0' })).location).toBe(`${PAGE}?done=reminders-saved`);
  const page = await browse(agent, 'GET', PAGE);
  expect(page.html).toContain(`Saved by ${owner.email}`);
  expect(inputTag(page.html, 'reminders-warrantyDaysBefore')).toContain('value="21"');

  const stale = await post(`${PAGE}/reminders`, { warrantyDaysBefore: '1', leaseDaysBefore: '1', version: '0' });
  expect(stale.status).toBe(412);
  expect(stale.html).toContain('Someone else changed this setting while you were editing (it is now at version 1), so nothing was saved.');
  expect((await stack.database.db('settings').where({ key: 'reminders' }).first('value', 'version'))).toEqual({ value: { warrantyDaysBefore: 21, leaseDaysBefore: 7 }, version: 1 });
});
