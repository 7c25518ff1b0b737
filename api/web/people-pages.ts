/**
 * People and groups in the web UI, for admins: lists, the forms that create them and the pages
 * that edit them. The forms are checked with the same zod schemas as the JSON API and written by
 * the same model functions (one transaction with the audit row); an edit carries the version it
 * was made on, so an edit of something another admin changed meanwhile is refused (412) and the
 * page shows what is there now. Deactivation goes through api/person-deactivation.ts.
 */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { ROLES, groupCreate, groupUpdate, personCreate, personUpdate, type Role } from '../../domain/directory';
import { listCostCentres, listPeople, type PersonEntry } from '../../model/directory';
import { findGroupDetail, groupChoices, listGroups, updateGroup, createGroup, type GroupDetail, type GroupEntry } from '../../model/groups';
import { createPerson, findPersonDetail, updatePerson, type PersonDetail } from '../../model/people';
import type { Page } from '../../model/page';
import { hasAnyRole } from '../auth';
import { toHttpError, type HttpError } from '../errors';
import { deactivatePersonNow, reactivatePersonNow } from '../person-deactivation';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { csrfField, errorPage, label, layout, notice, pager, queryString, time, type NavItem, type Notice, type ViewContext } from './views';
import { timeZoneChoices } from './profile-pages';
import { viewerTimeZone } from '../../domain/time-zones';

const ADMIN = ['admin'] as const;

export const PEOPLE_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/people', access: ADMIN },
  { method: 'get', path: '/people/new', access: ADMIN },
  { method: 'post', path: '/people', access: ADMIN },
  { method: 'get', path: '/people/:id', access: ADMIN },
  { method: 'post', path: '/people/:id', access: ADMIN },
  { method: 'post', path: '/people/:id/deactivate', access: ADMIN },
  { method: 'post', path: '/people/:id/reactivate', access: ADMIN },
  { method: 'get', path: '/groups', access: ADMIN },
  { method: 'get', path: '/groups/new', access: ADMIN },
  { method: 'post', path: '/groups', access: ADMIN },
  { method: 'get', path: '/groups/:id', access: ADMIN },
  { method: 'post', path: '/groups/:id', access: ADMIN },
];

// ---------------------------------------------------------------------------------------------
// Form fields
// ---------------------------------------------------------------------------------------------

/** The first string of a form field or query parameter. */
const str = (value: unknown) => (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined);
/** Every string of a repeated form field (checkboxes). */
const strs = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
/** An optional field left empty is not given (a new record) or cleared (an edit). */
const blankAs = <T>(value: string | undefined, blank: T) => (value === undefined || value.trim() === '' ? blank : value);

const issuesText = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || 'form'}: ${i.message}`).join('; ');

const listQuery = z.object({
  q: z.string().trim().max(100).catch(''),
  active: z.enum(['', 'true', 'false']).catch(''),
  limit: z.coerce.number().int().min(1).max(200).catch(50),
  offset: z.coerce.number().int().min(0).catch(0),
});
type ListValues = z.output<typeof listQuery>;
/** A list page's search, filter and page from its query string; anything unreadable falls back to the defaults. */
const listValuesOf = (query: Record<string, unknown>): ListValues =>
  listQuery.parse({ q: str(query.q) ?? '', active: str(query.active) ?? '', limit: str(query.limit), offset: str(query.offset) });
const activeOf = (value: string) => (value === '' ? undefined : value === 'true');

/** The version an edit was made on, and the confirmation a deactivation needs: without them a form changes nothing. */
const versionField = z.coerce.number().int().min(1).max(2 ** 31 - 1);
const confirmedForm = z.object({ confirm: z.literal('yes'), version: versionField });

/** A person's form as sent (or as the person is), to fill it again. */
interface PersonFormValues {
  email: string;
  name: string;
  title: string;
  location: string;
  managerEmail: string;
  costCentre: string;
  /** Empty: the organisation's zone. */
  timeZone: string;
  groups: string[];
  /** The roles admins granted (checkboxes); those from single sign-on are shown apart. */
  roles: string[];
}

function personFormOf(body: Record<string, unknown>): PersonFormValues {
  return {
    email: str(body.email) ?? '',
    name: str(body.name) ?? '',
    title: str(body.title) ?? '',
    location: str(body.location) ?? '',
    managerEmail: str(body.managerEmail) ?? '',
    costCentre: str(body.costCentre) ?? '',
    timeZone: str(body.timeZone) ?? '',
    groups: strs(body.groups),
    roles: strs(body.roles),
  };
}

function personFormFrom(person: PersonDetail): PersonFormValues {
  return {
    email: person.email,
    name: person.name,
    title: person.title ?? '',
    location: person.location ?? '',
    managerEmail: person.manager?.email ?? '',
    costCentre: person.costCentre?.code ?? '',
    timeZone: person.timeZone ?? '',
    groups: person.groups.map((g) => g.name),
    roles: person.roleGrants.filter((g) => g.grantedBy === 'admin').map((g) => g.role),
  };
}

interface GroupFormValues {
  name: string;
  description: string;
  email: string;
  managerEmail: string;
  /** Members' emails, one a line. */
  members: string;
  active: boolean;
}

const emailsIn = (text: string) => text.split(/[\s,;]+/).filter(Boolean);

function groupFormOf(body: Record<string, unknown>): GroupFormValues {
  return {
    name: str(body.name) ?? '',
    description: str(body.description) ?? '',
    email: str(body.email) ?? '',
    managerEmail: str(body.managerEmail) ?? '',
    members: str(body.members) ?? '',
    active: str(body.active) === 'yes',
  };
}

function groupFormFrom(group: GroupDetail): GroupFormValues {
  return {
    name: group.name,
    description: group.description ?? '',
    email: group.email ?? '',
    managerEmail: group.manager?.email ?? '',
    members: group.members.map((m) => m.email).join('\n'),
    active: group.active,
  };
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

function listFilters(action: string, what: string, values: ListValues): SafeHtml {
  return html`<form class="filters" method="get" action="${action}" role="search" aria-label="${`Filter ${what}`}">
<div><label for="f-q">Name or email</label><input id="f-q" name="q" type="search" value="${values.q}" maxlength="100"></div>
<div><label for="f-active">Active or deactivated</label><select id="f-active" name="active">${([['', 'either'], ['true', 'active'], ['false', 'deactivated']] as const).map(
    ([value, text]) => html`<option value="${value}"${values.active === value && html` selected`}>${text}</option>`,
  )}</select></div>
<div><button type="submit">Filter</button> <a href="${action}">Clear</a></div>
</form>`;
}

function peopleListPage(ctx: ViewContext, input: { values: ListValues; result: Page<PersonEntry> }): SafeHtml {
  const rows = input.result.items.map((p) => html`<tr>
<th scope="row"><a href="/ui/people/${p.id}">${p.name}</a></th>
<td>${p.email}</td>
<td>${p.title ?? ''}</td>
<td>${p.managerName ?? ''}</td>
<td>${p.roles.map(label).join(', ')}</td>
<td>${p.active ? 'active' : html`<span class="breached">deactivated</span>`}</td>
</tr>`);
  const table = rows.length
    ? html`<table><caption class="sr-only">People</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Title</th><th scope="col">Manager</th><th scope="col">Roles</th><th scope="col">Status</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody></table>`
    : html`<p>Nobody matches.</p>`;
  const { q, active } = input.values;
  return layout(ctx, 'People', html`<h1>People</h1>
<p><a href="/ui/people/new">Add a person</a></p>
${listFilters('/ui/people', 'people', input.values)}
<p role="status">${input.result.page.total} ${input.result.page.total === 1 ? 'person matches' : 'people match'}.</p>
${table}
${pager(input.result.page, '/ui/people', { q: q || undefined, active: active || undefined })}`);
}

interface PersonFormOptions {
  costCentres: { code: string; name: string }[];
  groups: { id: string; name: string; active: boolean }[];
  /** The organisation's zone (TIME_ZONE), named in the empty choice of a person's zone. */
  organisationZone: string;
}

function personFields(values: PersonFormValues, options: PersonFormOptions, ssoRoles: Role[]): SafeHtml {
  const chosenGroups = new Set(values.groups.map((g) => g.toLowerCase()));
  const groupBoxes = options.groups.map((g, i) => html`<div class="check"><input id="group-${i}" name="groups" type="checkbox" value="${g.name}"${chosenGroups.has(g.name.toLowerCase()) && html` checked`}> <label for="group-${i}">${g.name}${!g.active && html` <span class="meta">(inactive)</span>`}</label></div>`);
  const roleBoxes = ROLES.map((role) => ssoRoles.includes(role) && !values.roles.includes(role)
    ? html`<div class="check"><input id="role-${role}" type="checkbox" checked disabled> <label for="role-${role}">${label(role)} <span class="meta">(from single sign-on: changes at the next sign-in)</span></label></div>`
    : html`<div class="check"><input id="role-${role}" name="roles" type="checkbox" value="${role}"${values.roles.includes(role) && html` checked`}> <label for="role-${role}">${label(role)}</label></div>`);
  const costCentres: [string, string][] = [['', 'none'], ...options.costCentres.map((c): [string, string] => [c.code, `${c.code} ${c.name}`])];
  return html`<div class="grid2"><div>
<label for="p-email">Email</label><input id="p-email" name="email" type="email" required maxlength="254" size="40" value="${values.email}">
<label for="p-name">Name</label><input id="p-name" name="name" required maxlength="200" size="40" value="${values.name}">
<label for="p-title">Title</label><input id="p-title" name="title" maxlength="200" size="40" value="${values.title}">
<label for="p-location">Location</label><input id="p-location" name="location" maxlength="200" size="40" value="${values.location}">
<label for="p-manager">Manager's email</label><input id="p-manager" name="managerEmail" type="email" maxlength="254" size="40" value="${values.managerEmail}" aria-describedby="p-manager-hint">
<p id="p-manager-hint" class="meta">Approvals escalate to the manager; leave empty for nobody.</p>
<label for="p-cc">Cost centre</label><select id="p-cc" name="costCentre">${costCentres.map(([code, text]) => html`<option value="${code}"${code === values.costCentre && html` selected`}>${text}</option>`)}</select>
<label for="p-time-zone">Time zone</label><select id="p-time-zone" name="timeZone" aria-describedby="p-time-zone-hint">${timeZoneChoices(options.organisationZone).map(([zone, text]) => html`<option value="${zone}"${zone === values.timeZone && html` selected`}>${text}</option>`)}</select>
<p id="p-time-zone-hint" class="meta">Pages and emails show this person times in it; they may change it on their profile.</p>
</div><div>
<fieldset><legend>Roles</legend>${roleBoxes}</fieldset>
<fieldset><legend>Groups</legend>${groupBoxes.length ? groupBoxes : html`<p class="meta">There are no groups yet.</p>`}</fieldset>
</div></div>`;
}

function newPersonPage(ctx: ViewContext, input: { values: PersonFormValues; options: PersonFormOptions; notice?: Notice }): SafeHtml {
  return layout(ctx, 'Add a person', html`<p class="meta"><a href="/ui/people">← People</a></p>
<h1>Add a person</h1>
${notice(input.notice)}
<form method="post" action="/ui/people">
${csrfField(ctx.csrf)}
${personFields(input.values, input.options, [])}
<div class="actions"><button type="submit">Add the person</button></div>
</form>`);
}

function personPage(ctx: ViewContext, input: { person: PersonDetail; values: PersonFormValues; version: number; options: PersonFormOptions; notice?: Notice }): SafeHtml {
  const p = input.person;
  const ssoRoles = p.roleGrants.filter((g) => g.grantedBy === 'sso').map((g) => g.role);
  const status = p.active
    ? html`active`
    : html`<span class="breached">deactivated</span>${p.deactivatedAt && html` ${time(p.deactivatedAt, ctx.timeZone)}`}`;
  const summary = html`<dl class="summary">
<dt>Status</dt><dd id="person-status">${status}</dd>
<dt>Roles</dt><dd>${p.roleGrants.map((g) => `${label(g.role)}${g.grantedBy === 'sso' ? ' (single sign-on)' : ''}`).join(', ') || 'none'}</dd>
<dt>Manager</dt><dd>${p.manager ? html`<a href="/ui/people/${p.manager.id}">${p.manager.name}</a>` : '–'}</dd>
<dt>Groups</dt><dd>${p.groups.length ? join(p.groups.map((g) => html`<a href="/ui/groups/${g.id}">${g.name}</a>`), ', ') : '–'}</dd>
<dt>Time zone</dt><dd id="person-time-zone">${p.timeZone ?? `organisation default (${input.options.organisationZone})`}</dd>
<dt>Version</dt><dd id="person-version">${p.version} <span class="meta">(changed ${time(p.updatedAt, ctx.timeZone)}; added ${time(p.createdAt, ctx.timeZone)})</span></dd>
</dl>`;
  const lifecycle = p.active
    ? html`<h2 id="lifecycle-heading">Deactivate</h2>
<p>A deactivated person can no longer sign in; their API keys and sessions stop working at once, and their open approvals move to their delegate, their manager, or the process owners. Nothing is deleted: history keeps naming them.</p>
<form method="post" action="/ui/people/${p.id}/deactivate">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${p.version}">
<div class="check"><input id="confirm-deactivate" name="confirm" type="checkbox" value="yes" required> <label for="confirm-deactivate">Yes, deactivate ${p.name}</label></div>
<div class="actions"><button type="submit" class="reject">Deactivate</button></div>
</form>`
    : html`<h2 id="lifecycle-heading">Reactivate</h2>
<p>${p.name} may sign in again; keys revoked at deactivation stay revoked.</p>
<form method="post" action="/ui/people/${p.id}/reactivate">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${p.version}">
<div class="check"><input id="confirm-reactivate" name="confirm" type="checkbox" value="yes" required> <label for="confirm-reactivate">Yes, reactivate ${p.name}</label></div>
<div class="actions"><button type="submit">Reactivate</button></div>
</form>`;
  return layout(ctx, p.name, html`<p class="meta"><a href="/ui/people">← People</a></p>
<h1>${p.name}</h1>
<p class="meta">${p.email}${p.title && ` · ${p.title}`}</p>
${notice(input.notice)}
<section aria-labelledby="summary-heading"><h2 id="summary-heading">Summary</h2>${summary}</section>
<section aria-labelledby="edit-heading"><h2 id="edit-heading">Edit</h2>
<form method="post" action="/ui/people/${p.id}">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${input.version}">
${personFields(input.values, input.options, ssoRoles)}
<div class="actions"><button type="submit">Save</button></div>
</form></section>
<section aria-labelledby="lifecycle-heading">${lifecycle}</section>`);
}

function groupsListPage(ctx: ViewContext, input: { values: ListValues; result: Page<GroupEntry> }): SafeHtml {
  const rows = input.result.items.map((g) => html`<tr>
<th scope="row"><a href="/ui/groups/${g.id}">${g.name}</a></th>
<td>${g.description ?? ''}</td>
<td>${g.email ?? ''}</td>
<td>${g.managerName ?? ''}</td>
<td class="num">${g.memberCount}</td>
<td>${g.active ? 'active' : html`<span class="breached">inactive</span>`}</td>
</tr>`);
  const table = rows.length
    ? html`<table><caption class="sr-only">Groups</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Email</th><th scope="col">Manager</th><th scope="col" class="num">Members</th><th scope="col">Status</th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody></table>`
    : html`<p>No group matches.</p>`;
  const { q, active } = input.values;
  return layout(ctx, 'Groups', html`<h1>Groups</h1>
<p><a href="/ui/groups/new">Add a group</a></p>
${listFilters('/ui/groups', 'groups', input.values)}
<p role="status">${input.result.page.total} group${input.result.page.total === 1 ? '' : 's'} match${input.result.page.total === 1 ? 'es' : ''}.</p>
${table}
${pager(input.result.page, '/ui/groups', { q: q || undefined, active: active || undefined })}`);
}

function groupFields(values: GroupFormValues, withActive: boolean): SafeHtml {
  return html`<label for="g-name">Name</label><input id="g-name" name="name" required maxlength="100" size="40" value="${values.name}">
<label for="g-description">Description</label><textarea id="g-description" name="description" rows="2" maxlength="2000">${values.description}</textarea>
<label for="g-email">Shared mailbox</label><input id="g-email" name="email" type="email" maxlength="254" size="40" value="${values.email}">
<label for="g-manager">Manager's email</label><input id="g-manager" name="managerEmail" type="email" maxlength="254" size="40" value="${values.managerEmail}">
<label for="g-members">Members' emails</label><textarea id="g-members" name="members" rows="6" aria-describedby="g-members-hint">${values.members}</textarea>
<p id="g-members-hint" class="meta">One email a line.</p>
${withActive && html`<div class="check"><input id="g-active" name="active" type="checkbox" value="yes"${values.active && html` checked`} aria-describedby="g-active-hint"> <label for="g-active">Active</label></div>
<p id="g-active-hint" class="meta">An inactive group keeps its members, but approval rules that name it find nobody in it.</p>`}`;
}

function newGroupPage(ctx: ViewContext, input: { values: GroupFormValues; notice?: Notice }): SafeHtml {
  return layout(ctx, 'Add a group', html`<p class="meta"><a href="/ui/groups">← Groups</a></p>
<h1>Add a group</h1>
${notice(input.notice)}
<form method="post" action="/ui/groups">
${csrfField(ctx.csrf)}
${groupFields(input.values, false)}
<div class="actions"><button type="submit">Add the group</button></div>
</form>`);
}

function groupPage(ctx: ViewContext, input: { group: GroupDetail; values: GroupFormValues; version: number; notice?: Notice }): SafeHtml {
  const g = input.group;
  const members = g.members.length
    ? html`<ul>${g.members.map((m) => html`<li><a href="/ui/people/${m.id}">${m.name}</a> <span class="meta">${m.email}${!m.active && ' · deactivated'}</span></li>`)}</ul>`
    : html`<p>No members.</p>`;
  return layout(ctx, g.name, html`<p class="meta"><a href="/ui/groups">← Groups</a></p>
<h1>${g.name}</h1>
<p class="meta">${g.active ? 'active' : 'inactive'} · version <span id="group-version">${g.version}</span> · changed ${time(g.updatedAt, ctx.timeZone)}</p>
${notice(input.notice)}
<section aria-labelledby="members-heading"><h2 id="members-heading">Members</h2>${members}</section>
<section aria-labelledby="edit-heading"><h2 id="edit-heading">Edit</h2>
<form method="post" action="/ui/groups/${g.id}">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${input.version}">
${groupFields(input.values, true)}
<div class="actions"><button type="submit">Save</button></div>
</form></section>`);
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

/** Refusals a form shows next to itself; anything else (a 5xx) goes to the error page. */
function refusalOf(error: unknown): HttpError {
  const known = toHttpError(error);
  if (!known || known.status >= 500) throw error;
  return known;
}

const staleNotice = (what: string, known: HttpError): Notice => ({
  kind: 'error',
  text: `Someone else changed this ${what} while you were editing (it is now at version ${(known.details as { currentVersion?: number } | undefined)?.currentVersion ?? '?'}), so nothing was saved. Here is the current version: make your change again.`,
});

export function registerPeoplePages(router: Router, kit: WebKit): void {
  const { db, temporal, taskQueue } = kit.deps;
  const deactivation = () => ({ db, temporal, taskQueue });

  /** The page context for an admin, or a 403 page (and undefined) for anyone else. */
  async function adminContext(res: Response, current: NavItem): Promise<ViewContext | undefined> {
    const ctx = await kit.context(res, current);
    if (hasAnyRole(ctx.user, ['admin'])) return ctx;
    sendHtml(res, 403, errorPage(ctx, 'Not for your role', 'People and groups are maintained by admins.', [['/ui/api-keys', 'Your API keys']]));
    return undefined;
  }

  const personOptions = async (): Promise<PersonFormOptions> => {
    const [costCentres, groups] = await Promise.all([listCostCentres(db), groupChoices(db)]);
    return { costCentres, groups, organisationZone: viewerTimeZone(undefined, kit.deps.timeZone) };
  };

  // --- people ----------------------------------------------------------------------------------

  router.get('/people', async (req, res) => {
    const ctx = await adminContext(res, 'people');
    if (!ctx) return;
    const values = listValuesOf(req.query);
    const result = await listPeople(db, { q: values.q || undefined, active: activeOf(values.active) }, values);
    sendHtml(res, 200, peopleListPage(ctx, { values, result }));
  });

  router.get('/people/new', async (_req, res) => {
    const ctx = await adminContext(res, 'people');
    if (!ctx) return;
    sendHtml(res, 200, newPersonPage(ctx, { values: personFormOf({}), options: await personOptions() }));
  });

  router.post('/people', async (req, res) => {
    const ctx = await adminContext(res, 'people');
    if (!ctx) return;
    const values = personFormOf(req.body ?? {});
    const again = async (status: number, text: string) =>
      sendHtml(res, status, newPersonPage(ctx, { values, options: await personOptions(), notice: { kind: 'error', text: `Nothing was saved. ${text}` } }));
    const input = personCreate.safeParse({
      email: values.email,
      name: values.name,
      title: blankAs(values.title, undefined),
      location: blankAs(values.location, undefined),
      managerEmail: blankAs(values.managerEmail, undefined),
      costCentre: blankAs(values.costCentre, undefined),
      timeZone: blankAs(values.timeZone, undefined),
      groups: values.groups,
      roles: values.roles,
    });
    if (!input.success) {
      await again(400, issuesText(input.error));
      return;
    }
    try {
      const person = await createPerson(db, input.data, ctx.user.email);
      res.redirect(303, `/ui/people/${person.id}${queryString({ done: 'created' })}`);
    } catch (error) {
      const known = refusalOf(error);
      await again(known.status, known.message);
    }
  });

  async function renderPerson(res: Response, ctx: ViewContext, status: number, person: PersonDetail, extra: { values?: PersonFormValues; version?: number; notice?: Notice } = {}) {
    sendHtml(res, status, personPage(ctx, {
      person,
      values: extra.values ?? personFormFrom(person),
      version: extra.version ?? person.version,
      options: await personOptions(),
      notice: extra.notice,
    }));
  }

  /** The person of the path, or a 404 page (and undefined). */
  async function personOf(req: Request, res: Response, ctx: ViewContext): Promise<PersonDetail | undefined> {
    const person = await findPersonDetail(db, String(req.params.id));
    if (!person) sendHtml(res, 404, errorPage(ctx, 'Not found', 'There is no such person; nothing was changed.', [['/ui/people', 'People']]));
    return person;
  }

  const PERSON_DONE: Record<string, string> = {
    created: 'The person is added.',
    saved: 'Saved.',
    unchanged: 'Nothing was different, so nothing was changed.',
    deactivated: 'Deactivated: their keys and sessions no longer work.',
    reactivated: 'Reactivated: they may sign in again (with a new key; their old keys stay revoked).',
  };
  const movedCount = z.coerce.number().int().min(1).max(1_000_000);

  router.get('/people/:id', async (req, res) => {
    const ctx = await adminContext(res, 'people');
    if (!ctx) return;
    const person = await personOf(req, res, ctx);
    if (!person) return;
    const done = PERSON_DONE[str(req.query.done) ?? ''];
    const moved = movedCount.safeParse(str(req.query.moved)).data;
    const text = done && `${done}${moved ? ` ${moved} open approval${moved === 1 ? '' : 's'} move${moved === 1 ? 's' : ''} to someone else.` : ''}`;
    await renderPerson(res, ctx, 200, person, { notice: text ? { kind: 'ok', text } : undefined });
  });

  router.post('/people/:id', async (req, res) => {
    const ctx = await adminContext(res, 'people');
    if (!ctx) return;
    const person = await personOf(req, res, ctx);
    if (!person) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = personFormOf(body);
    const version = versionField.safeParse(str(body.version));
    if (!version.success) {
      await renderPerson(res, ctx, 400, person, { notice: { kind: 'error', text: 'Nothing was saved: the form did not say which version it edits. Edit the form below and save again.' } });
      return;
    }
    const again = (status: number, text: string) =>
      renderPerson(res, ctx, status, person, { values, version: version.data, notice: { kind: 'error', text: `Nothing was saved. ${text}` } });
    const input = personUpdate.safeParse({
      email: values.email,
      name: values.name,
      title: values.title,
      location: values.location,
      managerEmail: blankAs(values.managerEmail, null),
      costCentre: blankAs(values.costCentre, null),
      timeZone: blankAs(values.timeZone, null),
      groups: values.groups,
      roles: values.roles,
    });
    if (!input.success) {
      await again(400, issuesText(input.error));
      return;
    }
    try {
      const { changed } = await updatePerson(db, person.id, [version.data], input.data, ctx.user.email);
      res.redirect(303, `/ui/people/${person.id}${queryString({ done: changed ? 'saved' : 'unchanged' })}`);
    } catch (error) {
      const known = refusalOf(error);
      if (known.code === 'version_mismatch') {
        await renderPerson(res, ctx, 412, (await findPersonDetail(db, person.id))!, { notice: staleNotice('person', known) });
        return;
      }
      await again(known.status, known.message);
    }
  });

  for (const [action, done] of [['deactivate', 'deactivated'], ['reactivate', 'reactivated']] as const) {
    router.post(`/people/:id/${action}`, async (req, res) => {
      const ctx = await adminContext(res, 'people');
      if (!ctx) return;
      const person = await personOf(req, res, ctx);
      if (!person) return;
      const form = confirmedForm.safeParse({ confirm: str(req.body?.confirm), version: str(req.body?.version) });
      if (!form.success) {
        await renderPerson(res, ctx, 400, person, { notice: { kind: 'error', text: `Nothing was changed: tick "Yes, ${action} ${person.name}" and press ${action === 'deactivate' ? 'Deactivate' : 'Reactivate'}.` } });
        return;
      }
      const input = { personId: person.id, actor: ctx.user, expectedVersion: form.data.version };
      try {
        const moved = action === 'deactivate' ? (await deactivatePersonNow(deactivation(), input)).approvalsToMove : undefined;
        if (action === 'reactivate') await reactivatePersonNow(deactivation(), input);
        res.redirect(303, `/ui/people/${person.id}${queryString({ done, moved: moved || undefined })}`);
      } catch (error) {
        const known = refusalOf(error);
        const current = (await findPersonDetail(db, person.id))!;
        await renderPerson(res, ctx, known.status, current, {
          notice: known.code === 'version_mismatch' ? staleNotice('person', known) : { kind: 'error', text: `Nothing was changed: ${known.message}` },
        });
      }
    });
  }

  // --- groups ----------------------------------------------------------------------------------

  router.get('/groups', async (req, res) => {
    const ctx = await adminContext(res, 'groups');
    if (!ctx) return;
    const values = listValuesOf(req.query);
    const result = await listGroups(db, { q: values.q || undefined, active: activeOf(values.active) }, values);
    sendHtml(res, 200, groupsListPage(ctx, { values, result }));
  });

  router.get('/groups/new', async (_req, res) => {
    const ctx = await adminContext(res, 'groups');
    if (!ctx) return;
    sendHtml(res, 200, newGroupPage(ctx, { values: groupFormOf({}) }));
  });

  router.post('/groups', async (req, res) => {
    const ctx = await adminContext(res, 'groups');
    if (!ctx) return;
    const values = groupFormOf(req.body ?? {});
    const again = (status: number, text: string) => sendHtml(res, status, newGroupPage(ctx, { values, notice: { kind: 'error', text: `Nothing was saved. ${text}` } }));
    const input = groupCreate.safeParse({
      name: values.name,
      description: blankAs(values.description, undefined),
      email: blankAs(values.email, undefined),
      managerEmail: blankAs(values.managerEmail, undefined),
      members: emailsIn(values.members),
    });
    if (!input.success) {
      again(400, issuesText(input.error));
      return;
    }
    try {
      const group = await createGroup(db, input.data, ctx.user.email);
      res.redirect(303, `/ui/groups/${group.id}${queryString({ done: 'created' })}`);
    } catch (error) {
      const known = refusalOf(error);
      again(known.status, known.message);
    }
  });

  const GROUP_DONE: Record<string, string> = {
    created: 'The group is added.',
    saved: 'Saved.',
    unchanged: 'Nothing was different, so nothing was changed.',
  };

  async function groupOf(req: Request, res: Response, ctx: ViewContext): Promise<GroupDetail | undefined> {
    const group = await findGroupDetail(db, String(req.params.id));
    if (!group) sendHtml(res, 404, errorPage(ctx, 'Not found', 'There is no such group; nothing was changed.', [['/ui/groups', 'Groups']]));
    return group;
  }

  router.get('/groups/:id', async (req, res) => {
    const ctx = await adminContext(res, 'groups');
    if (!ctx) return;
    const group = await groupOf(req, res, ctx);
    if (!group) return;
    const done = GROUP_DONE[str(req.query.done) ?? ''];
    sendHtml(res, 200, groupPage(ctx, { group, values: groupFormFrom(group), version: group.version, notice: done ? { kind: 'ok', text: done } : undefined }));
  });

  router.post('/groups/:id', async (req, res) => {
    const ctx = await adminContext(res, 'groups');
    if (!ctx) return;
    const group = await groupOf(req, res, ctx);
    if (!group) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = groupFormOf(body);
    const version = versionField.safeParse(str(body.version));
    if (!version.success) {
      sendHtml(res, 400, groupPage(ctx, { group, values: groupFormFrom(group), version: group.version, notice: { kind: 'error', text: 'Nothing was saved: the form did not say which version it edits. Edit the form below and save again.' } }));
      return;
    }
    const again = (status: number, text: string) =>
      sendHtml(res, status, groupPage(ctx, { group, values, version: version.data, notice: { kind: 'error', text: `Nothing was saved. ${text}` } }));
    const input = groupUpdate.safeParse({
      name: values.name,
      description: values.description,
      email: blankAs(values.email, null),
      managerEmail: blankAs(values.managerEmail, null),
      members: emailsIn(values.members),
      active: values.active,
    });
    if (!input.success) {
      again(400, issuesText(input.error));
      return;
    }
    try {
      const { changed } = await updateGroup(db, group.id, [version.data], input.data, ctx.user.email);
      res.redirect(303, `/ui/groups/${group.id}${queryString({ done: changed ? 'saved' : 'unchanged' })}`);
    } catch (error) {
      const known = refusalOf(error);
      if (known.code === 'version_mismatch') {
        const current = (await findGroupDetail(db, group.id))!;
        sendHtml(res, 412, groupPage(ctx, { group: current, values: groupFormFrom(current), version: current.version, notice: staleNotice('group', known) }));
        return;
      }
      again(known.status, known.message);
    }
  });
}
