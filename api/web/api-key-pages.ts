import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { findApiKey, listApiKeys, type ApiKeyRecord } from '../../model/api-keys';
import type { Page } from '../../model/page';
import { apiKeyName, createOwnKey, expiryProblem, mayRevoke, revokeKeyAs } from '../api-keys';
import { toHttpError } from '../errors';
import { html, join, sendHtml, type SafeHtml } from './html';
import type { WebKit, WebRoute } from './router';
import { csrfField, layout, notice, pager, queryString, time, type Notice, type ViewContext } from './views';

export const API_KEY_PAGE_ROUTES: readonly WebRoute[] = [
  { method: 'get', path: '/api-keys', access: 'signed_in' },
  { method: 'post', path: '/api-keys', access: 'signed_in' },
  { method: 'post', path: '/api-keys/:id/revoke', access: 'signed_in' },
];

const PAGE_SIZE = 50;

/** The form's values as sent, to fill it again after a refusal. */
interface CreateFormValues {
  name?: string;
  expiresOn?: string;
}

/** The keys; `signedInWith`, the key of this session, is marked: revoking it signs the person out. */
function keysTable(ctx: ViewContext, keys: ApiKeyRecord[], signedInWith: string | undefined): SafeHtml {
  if (!keys.length) return html`<p>You have no API key yet.</p>`;
  const rows = keys.map((k) => html`<tr id="key-${k.id}">
<th scope="row">${k.name}${k.id === signedInWith && html`<br><span class="meta">you signed in with it: revoking it signs you out</span>`}</th>
<td><code>${k.prefix}</code>…</td>
<td class="when">${time(k.createdAt, ctx.timeZone)}${k.createdBy.startsWith('system:') || k.createdBy === ctx.user.email ? '' : html`<br><span class="meta">by ${k.createdBy}</span>`}</td>
<td class="when">${k.lastUsedAt ? time(k.lastUsedAt, ctx.timeZone) : html`<span class="meta">never</span>`}</td>
<td class="when">${k.expiresAt ? time(k.expiresAt, ctx.timeZone) : html`<span class="meta">never</span>`}</td>
<td>${k.status}${k.revokedAt && html`<br><span class="meta">${time(k.revokedAt, ctx.timeZone)}</span>`}</td>
<td>${k.status === 'live' && html`<form method="post" action="/ui/api-keys/${k.id}/revoke">${csrfField(ctx.csrf)}<input type="hidden" name="confirm" value="revoke"><button type="submit" class="reject" aria-label="${`Revoke the key ${k.name}`}">Revoke</button></form>`}</td>
</tr>`);
  return html`<table>
<caption class="sr-only">Your API keys, newest first</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Starts with</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Status</th><th scope="col"><span class="sr-only">Revoke</span></th></tr></thead>
<tbody>
${join(rows, '\n')}
</tbody>
</table>`;
}

function createForm(ctx: ViewContext, values: CreateFormValues): SafeHtml {
  return html`<section aria-labelledby="new-key-heading">
<h2 id="new-key-heading">Make a new key</h2>
<form method="post" action="/ui/api-keys">
${csrfField(ctx.csrf)}
<label for="key-name">Name</label>
<input id="key-name" name="name" required maxlength="100" size="40" value="${values.name ?? ''}" aria-describedby="key-name-hint">
<p id="key-name-hint" class="meta">What the key is for, e.g. "CI pipeline"; different from the names of your other keys.</p>
<label for="key-expires">Expires on (optional)</label>
<input id="key-expires" name="expiresOn" type="date" value="${values.expiresOn ?? ''}" aria-describedby="key-expires-hint">
<p id="key-expires-hint" class="meta">The key stops working at 00:00 UTC that day, at most two years from now. Leave it empty for a key that does not expire.</p>
<div class="actions"><button type="submit">Make the key</button></div>
</form>
</section>`;
}

function apiKeysPage(
  ctx: ViewContext,
  input: { keys: Page<ApiKeyRecord>; signedInWith?: string; notice?: Notice; form?: CreateFormValues },
): SafeHtml {
  return layout(ctx, 'API keys', html`<h1>API keys</h1>
${notice(input.notice)}
<p class="meta">Send a key as <code>Authorization: Bearer &lt;key&gt;</code> to call the API (<a href="/docs">its documentation</a>), or sign in with it. A key is shown once, when it is made: assetflow keeps only its hash.</p>
${keysTable(ctx, input.keys.items, input.signedInWith)}
${pager(input.keys.page, '/ui/api-keys', {})}
${createForm(ctx, input.form ?? {})}`);
}

/** The one page that shows a key: right after it was made. */
function newApiKeyPage(ctx: ViewContext, input: { record: ApiKeyRecord; key: string }): SafeHtml {
  const { record } = input;
  return layout(ctx, 'Your new API key', html`<h1>Your new API key</h1>
<p class="notice ok" role="status">The key "${record.name}" is made${record.expiresAt ? html` and works until ${time(record.expiresAt, ctx.timeZone)}` : ''}. <strong>Copy it now: it will not be shown again.</strong></p>
<label for="new-key">Your key</label>
<input id="new-key" readonly size="50" value="${input.key}">
<p>Keep it where you keep passwords (a password manager, your CI's secret store). Anyone holding it acts as you. If it leaks, revoke it on <a href="/ui/api-keys">your API keys</a>.</p>`);
}

const createFormSchema = z.object({
  name: apiKeyName,
  expiresOn: z.union([z.literal(''), z.iso.date()]).optional(),
});

const revokeFormSchema = z.object({
  confirm: z.literal('revoke'),
  reason: z.string().trim().max(500).optional(),
});

const keyIdSchema = z.uuid();

/** The first string of a form field or query parameter. */
const str = (value: unknown) => (typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined);

/** A person's own keys, made and revoked with the same model functions and rules as the API. */
export function registerApiKeyPages(router: Router, kit: WebKit): void {
  const { db } = kit.deps;

  async function renderList(req: Request, res: Response, status: number, extra: { notice?: Notice; form?: CreateFormValues } = {}) {
    const ctx = await kit.context(res, 'api-keys');
    const offset = z.coerce.number().int().min(0).catch(0).parse(str(req.query.offset) ?? 0);
    const keys = await listApiKeys(db, ctx.user.id, { limit: PAGE_SIZE, offset });
    sendHtml(res, status, apiKeysPage(ctx, { keys, signedInWith: kit.signedInOf(res).session.apiKeyId, ...extra }));
  }

  router.get('/api-keys', async (req, res) => {
    const revokedId = str(req.query.revoked);
    let revokedNotice: Notice | undefined;
    if (revokedId && keyIdSchema.safeParse(revokedId).success) {
      const key = await findApiKey(db, revokedId);
      if (key && key.status === 'revoked' && mayRevoke(kit.signedInOf(res).user, key)) {
        revokedNotice = { kind: 'ok', text: `The key "${key.name}" (${key.prefix}…) is revoked: it no longer opens the API.` };
      }
    }
    await renderList(req, res, 200, { notice: revokedNotice });
  });

  router.post('/api-keys', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values: CreateFormValues = { name: str(body.name), expiresOn: str(body.expiresOn) };
    const form = createFormSchema.safeParse(values);
    if (!form.success) {
      const text = form.error.issues.map((i) => `${i.path.join('.') === 'expiresOn' ? 'Expires on' : 'Name'}: ${i.message}`).join('; ');
      await renderList(req, res, 400, { notice: { kind: 'error', text: `Nothing was made. ${text}` }, form: values });
      return;
    }
    const expiresAt = form.data.expiresOn ? new Date(`${form.data.expiresOn}T00:00:00Z`) : undefined;
    const problem = expiresAt && expiryProblem(expiresAt);
    if (problem) {
      await renderList(req, res, 400, { notice: { kind: 'error', text: `Nothing was made. Expires on: ${problem}.` }, form: values });
      return;
    }
    const { user } = kit.signedInOf(res);
    try {
      const created = await createOwnKey(db, { name: form.data.name, expiresAt, principal: user });
      sendHtml(res, 201, newApiKeyPage(await kit.context(res, 'api-keys'), created));
    } catch (error) {
      const known = toHttpError(error);
      if (!known || known.status >= 500) throw error;
      await renderList(req, res, known.status, { notice: { kind: 'error', text: `Nothing was made: ${known.message}` }, form: values });
    }
  });

  router.post('/api-keys/:id/revoke', async (req, res) => {
    const id = String(req.params.id);
    const form = revokeFormSchema.safeParse(req.body ?? {});
    if (!form.success) {
      await renderList(req, res, 400, { notice: { kind: 'error', text: 'Use the Revoke button next to a key; nothing was changed.' } });
      return;
    }
    if (!keyIdSchema.safeParse(id).success) {
      await renderList(req, res, 404, { notice: { kind: 'error', text: 'There is no such key; nothing was changed.' } });
      return;
    }
    try {
      await revokeKeyAs(db, { id, principal: kit.signedInOf(res).user, reason: form.data.reason || undefined });
      res.redirect(303, `/ui/api-keys${queryString({ revoked: id })}`);
    } catch (error) {
      const known = toHttpError(error);
      if (!known || known.status >= 500) throw error;
      await renderList(req, res, known.status, { notice: { kind: 'error', text: `Nothing was changed: ${known.message}` } });
    }
  });
}
