/**
 * The page an emailed approval link opens (GET and POST /approvals/:id), as pure functions from
 * data to SafeHtml. The link's token is the credential, so the page has no site header: it
 * shows what is to be approved, the approver's task and form, and the approvals so far.
 */
import type { ApprovalSubjectSummary } from '../../model/approval-subjects';
import type { ApprovalRecord } from '../../model/approvals';
import { html, join, page, type SafeHtml } from './html';
import { label, time, type Notice } from './views';

export interface ApprovalLinkPageInput {
  /** The approval the link is for. */
  approvalId: string;
  /** The link's token, sent back with the form. */
  token: string;
  subject: ApprovalSubjectSummary;
  /** The approvals of the same revision of the subject, the link's own among them. */
  approvals: ApprovalRecord[];
  /** The outcome of a decision just sent, shown above the page. */
  notice?: Notice;
  /** The approver's time zone, in which the page shows its times (the subject's were written in it already). */
  timeZone: string;
  /** A data steward case: the choices are merge (approve), keep both or ignore (reject). */
  stewardCase?: boolean;
}

export function approvalLinkPage(input: ApprovalLinkPageInput): SafeHtml {
  const { approvalId, token, subject, approvals, notice, timeZone, stewardCase } = input;
  const mine = approvals.find((a) => a.id === approvalId);
  if (!mine) throw new Error(`approval ${approvalId} is not among the approvals given for its page`);
  const rows = approvals.map(
    (a) => html`<tr><td>${a.step}. ${a.stepName}</td><td>${a.approver.name}${a.delegatedFrom && ` (for ${a.delegatedFrom.name})`}</td><td>${label(a.state)}${a.movedTo && html` (moved to ${a.movedTo.name})`}</td><td>${a.comment ?? ''}</td></tr>`,
  );
  const form = mine.state === 'requested'
    ? html`<form method="post" action="/approvals/${approvalId}">
  <input type="hidden" name="token" value="${token}">
  <label for="comment">Comment</label>
  <textarea id="comment" name="comment" rows="3" maxlength="2000"></textarea>
  ${stewardCase
    ? html`<fieldset><legend>Your decision</legend>
    <label><input type="radio" name="resolution" value="merge" required> Merge: one thing (the record that stays is the one proposed; choose another on the case page)</label>
    <label><input type="radio" name="resolution" value="keep_both"> Keep both: different things, not asked again</label>
    <label><input type="radio" name="resolution" value="ignore"> Ignore: the row was noise, not asked again</label>
  </fieldset>
  <div class="actions"><button type="submit">Decide</button></div>`
    : html`<div class="actions">
    <button type="submit" name="decision" value="approved">Approve</button>
    <button type="submit" name="decision" value="rejected" class="reject">Reject</button>
  </div>`}
  <p class="meta">This link is yours alone and works once; it expires ${mine.dueAt ? html`at ${time(mine.dueAt, timeZone)}` : 'with its step'}.</p>
</form>`
    : html`<p class="decided" role="status">Your decision: <strong>${label(mine.state)}</strong>${mine.decidedAt && html` at ${time(mine.decidedAt, timeZone)}`}.</p>`;
  const sections = subject.sections.map((section) => html`<h2>${section.title}</h2>\n<ul>${section.items.map((item) => html`<li>${item}</li>`)}</ul>`);
  const body = html`
${notice && html`<p class="notice ${notice.kind}" role="status">${notice.text}</p>`}
<h1>${subject.number}: ${subject.title}</h1>
<p class="meta">${subject.meta} · state <strong id="subject-state">${label(subject.state)}</strong></p>
<p>${subject.description}</p>
<h2>Your task</h2>
<p>Step ${mine.step} "${mine.stepName}" (${mine.stepPolicy}, ${mine.stepRequired} needed) for ${mine.approver.name}${mine.delegatedFrom && `, as delegate of ${mine.delegatedFrom.name}`}.</p>
${form}
${join(sections, '\n')}
<h2>Approvals</h2>
<table><thead><tr><th>Step</th><th>Approver</th><th>State</th><th>Comment</th></tr></thead><tbody>${rows}</tbody></table>`;
  return page(`${subject.number} approval`, body);
}

/** The link's page when nothing could be done: forged, expired, not yours, already decided. */
export function approvalLinkErrorPage(message: string): SafeHtml {
  return page('Approval', html`<h1>Nothing was changed</h1><p class="notice error" role="alert">${message}</p>`);
}
