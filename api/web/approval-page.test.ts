import type { ApprovalSubjectSummary } from '../../model/approval-subjects';
import type { ApprovalRecord } from '../../model/approvals';
import { approvalLinkErrorPage, approvalLinkPage } from './approval-page';

const subject: ApprovalSubjectSummary = {
  workflowId: 'change:CHG0001001',
  number: 'CHG0001001',
  title: 'Patch <script>alert(1)</script>',
  meta: 'normal change · risk high',
  description: 'Ruth & Co "asked"',
  state: 'authorize',
  sections: [{ title: 'Business services', items: ['Portal (tier 2)', '<b>billing</b>'] }],
} as ApprovalSubjectSummary;

const approval = (over: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  id: 'ap1', revision: 1, step: 1, stepName: 'Manager', stepPolicy: 'any', stepRequired: 1,
  approver: { id: 'p1', name: 'Walt <W>', email: 'w@x' }, delegatedFrom: null, state: 'requested',
  dueAt: '2026-11-28T09:00:00.000Z', decidedAt: null, decidedVia: null, comment: null,
  ...over,
} as ApprovalRecord);

describe('approval link page', () => {
  it('offers the form with the token while the approval waits, everything escaped', () => {
    const page = String(approvalLinkPage({ approvalId: 'ap1', token: 'tok"en<', subject, approvals: [approval(), approval({ id: 'ap2', approver: { id: 'p2', name: 'Ann', email: 'ann@x' } })], timeZone: 'Europe/Lisbon' }));
    expect(page).toContain('<form method="post" action="/approvals/ap1">');
    expect(page).toContain('<input type="hidden" name="token" value="tok&quot;en&lt;">');
    expect(page).toContain('<h1>CHG0001001: Patch &lt;script&gt;alert(1)&lt;/script&gt;</h1>');
    expect(page).toContain('<p>Ruth &amp; Co &quot;asked&quot;</p>');
    expect(page).toContain('<li>&lt;b&gt;billing&lt;/b&gt;</li>');
    expect(page).toContain('for Walt &lt;W&gt;.');
    expect(page).not.toContain('<script>');
    expect(page.match(/<tr><td>/g)).toHaveLength(2);
    expect(page).toContain('it expires at <time datetime="2026-11-28T09:00:00.000Z">2026-11-28 09:00 WET (Europe/Lisbon)</time>.');
  });

  it('shows the decision instead of the form once decided, and the notice', () => {
    const page = String(approvalLinkPage({
      approvalId: 'ap1', token: 't', subject,
      approvals: [approval({ state: 'approved', decidedAt: '2026-11-27T10:00:00.000Z', comment: 'fine <ok>', delegatedFrom: { id: 'p3', name: 'Del' } })],
      notice: { kind: 'ok', text: 'Thank you: you approved this request.' },
      timeZone: 'Europe/Berlin',
    }));
    expect(page).not.toContain('<form');
    expect(page).toContain('<p class="notice ok" role="status">Thank you: you approved this request.</p>');
    expect(page).toContain('Your decision: <strong>approved</strong> at <time datetime="2026-11-27T10:00:00.000Z">2026-11-27 11:00 CET (Europe/Berlin)</time>.');
    expect(page).toContain('<td>Walt &lt;W&gt; (for Del)</td><td>approved</td><td>fine &lt;ok&gt;</td>');
  });

  it('says that nothing was changed, escaped', () => {
    expect(String(approvalLinkErrorPage('already <decided>'))).toContain('<h1>Nothing was changed</h1><p class="notice error" role="alert">already &lt;decided&gt;</p>');
  });
});
