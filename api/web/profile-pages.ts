/**
 * A person's own page: who they are to assetflow (name, email, roles, groups) and the time zone
 * they read times in, which they may set themselves. The zone is saved by the same model write
 * as an admin's edit (model/people.ts updatePerson: the version read, one transaction with the
 * audit row), checked by the same schema as PATCH /people/:id.
 */
import type { Response, Router } from 'express';
import { personUpdate } from '../../domain/directory';
import { TIME_ZONES, formatInstant, viewerTimeZone } from '../../domain/time-zones';
import { findPersonDetail, updatePerson, type PersonDetail } from '../../model/people';
import { toHttpError } from '../errors';
import { errorSummary, fieldErrorsOf, select, str, zodProblems, type FieldErrors } from './forms';
import { html, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { csrfField, errorPage, label, layout, notice, queryString, type Notice, type ViewContext } from './views';

export const PROFILE_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/profile', access: 'signed_in' },
  { method: 'post', path: '/profile', access: 'signed_in' },
];

/**
 * The choices of a time zone select: first the empty one, which stands for the organisation's
 * zone (named), then every zone this runtime knows.
 */
export function timeZoneChoices(organisationZone: string): [string, string][] {
  return [['', `organisation default (${organisationZone})`], ...TIME_ZONES.map((zone): [string, string] => [zone, zone.replace(/_/g, ' ')])];
}

const LABELS = { timeZone: 'Time zone' };

function profilePage(ctx: ViewContext, input: { person: PersonDetail; organisationZone: string; value: string; version: number; errors?: FieldErrors; notice?: Notice }): SafeHtml {
  const p = input.person;
  const errors = input.errors ?? {};
  return layout(ctx, 'Your profile', html`<h1>Your profile</h1>
${notice(input.notice)}
${errorSummary('profile', errors, LABELS)}
<section aria-labelledby="who-heading"><h2 id="who-heading">Who you are to assetflow</h2>
<dl class="summary">
<dt>Name</dt><dd id="profile-name">${p.name}</dd>
<dt>Email</dt><dd id="profile-email">${p.email}</dd>
<dt>Roles</dt><dd id="profile-roles">${p.roleGrants.map((g) => `${label(g.role)}${g.grantedBy === 'sso' ? ' (single sign-on)' : ''}`).join(', ') || 'none'}</dd>
<dt>Groups</dt><dd>${p.groups.map((g) => g.name).join(', ') || '–'}</dd>
<dt>Manager</dt><dd>${p.manager?.name ?? '–'}</dd>
</dl>
<p class="meta">An admin keeps these; ask one to change them.</p></section>
<section aria-labelledby="zone-heading"><h2 id="zone-heading">Times</h2>
<p>Pages and emails show times in <strong id="profile-zone">${ctx.timeZone}</strong>: it is now ${formatInstant(new Date(ctx.now), ctx.timeZone)}.</p>
<form method="post" action="/ui/profile">
${csrfField(ctx.csrf)}<input type="hidden" name="version" value="${input.version}">
${select({ id: 'profile-timeZone', name: 'timeZone', label: LABELS.timeZone, value: input.value, errors, options: timeZoneChoices(input.organisationZone) })}
<div class="actions"><button type="submit">Save</button></div>
</form></section>`);
}

const DONE: Record<string, string> = { saved: 'Your time zone is saved.', unchanged: 'Nothing to save: that was your time zone already.' };

export function registerProfilePages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;
  const organisationZone = viewerTimeZone(undefined, kit.deps.timeZone);

  async function render(res: Response, ctx: ViewContext, status: number, extra: { value?: string; version?: number; errors?: FieldErrors; notice?: Notice } = {}) {
    const person = await findPersonDetail(db, ctx.user.id);
    if (!person) {
      sendHtml(res, 404, errorPage(ctx, 'Not found', 'Your person record is gone; nothing was changed.', [['/ui', 'Start page']]));
      return;
    }
    sendHtml(res, status, profilePage(ctx, {
      person,
      organisationZone,
      value: extra.value ?? person.timeZone ?? '',
      version: extra.version ?? person.version,
      errors: extra.errors,
      notice: extra.notice,
    }));
  }

  router.get('/profile', async (req, res) => {
    const ctx = await kit.context(res, 'profile');
    const done = DONE[str(req.query.done) ?? ''];
    await render(res, ctx, 200, { notice: done ? { kind: 'ok', text: done } : undefined });
  });

  router.post('/profile', async (req, res) => {
    const ctx = await kit.context(res, 'profile');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const value = str(body.timeZone) ?? '';
    const version = Number(str(body.version));
    if (!Number.isInteger(version) || version < 1) {
      await render(res, ctx, 400, { notice: { kind: 'error', text: 'Nothing was saved: the form did not say which version it edits. Choose again and save.' } });
      return;
    }
    const input = personUpdate.pick({ timeZone: true }).safeParse({ timeZone: value.trim() === '' ? null : value });
    if (!input.success) {
      await render(res, ctx, 400, { value, version, errors: fieldErrorsOf(zodProblems(input.error)) });
      return;
    }
    try {
      const { changed } = await updatePerson(db, ctx.user.id, [version], input.data, ctx.user.email);
      res.redirect(303, `/ui/profile${queryString({ done: changed ? 'saved' : 'unchanged' })}`);
    } catch (error) {
      const known = toHttpError(error);
      if (!known || known.status >= 500) throw error;
      if (known.code === 'version_mismatch') {
        await render(res, ctx, 412, { notice: { kind: 'error', text: 'Your profile changed meanwhile (an admin saved it), so nothing was saved. Here it is as it is now: choose again.' } });
        return;
      }
      await render(res, ctx, known.status, { value, version, errors: { timeZone: known.message } });
    }
  });
}
