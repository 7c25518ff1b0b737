import { linkify, mailboxPage } from './mailbox-page';

describe('dev mailbox page', () => {
  it('links web addresses and escapes the rest of the text', () => {
    expect(String(linkify('Open http://localhost:3000/approvals/a?token=x.y&z=1 <now> & then'))).toBe(
      'Open <a href="http://localhost:3000/approvals/a?token=x.y&amp;z=1">http://localhost:3000/approvals/a?token=x.y&amp;z=1</a> &lt;now&gt; &amp; then',
    );
  });

  it('ends a link at quotes and angle brackets around it', () => {
    expect(String(linkify('"https://ex.com/q" <https://ex.com/z>'))).toBe(
      '&quot;<a href="https://ex.com/q">https://ex.com/q</a>&quot; &lt;<a href="https://ex.com/z">https://ex.com/z</a>&gt;',
    );
    expect(String(linkify('no link'))).toBe('no link');
  });

  it('lists the messages, or says that none came', () => {
    const page = String(mailboxPage([{ id: '1', receivedAt: '2026-11-27T10:00:00Z', from: 'a <a@x>', to: ['b@x', 'c@x'], subject: 'S <s>', text: 't' }], 'Europe/Lisbon'));
    expect(page).toContain('<h2>S &lt;s&gt;</h2>');
    expect(page).toContain('To b@x, c@x · from a &lt;a@x&gt; · <time datetime="2026-11-27T10:00:00.000Z">2026-11-27 10:00 WET (Europe/Lisbon)</time>');
    expect(String(mailboxPage([]))).toContain('<p>No mail yet.');
  });
});
