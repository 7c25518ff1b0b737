import { z } from 'zod';
import { readMailbox } from '../../platform/mail-sink';
import { escapeHtml, page } from '../html';
import type { RouteRegistry } from '../routes-registry';

const linkify = (text: string) => escapeHtml(text).replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`);

/** The local SMTP sink's messages, for a newcomer running the embedded demo without a mail account. */
export function registerDevMailboxRoutes(routes: RouteRegistry, mailboxDir: string): void {
  const query = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });

  routes.add(
    {
      method: 'get', path: '/dev/mail.json', tag: 'development', access: 'public',
      summary: 'Messages received by the local SMTP sink, newest first (embedded demo only)',
      query,
      responses: { 200: 'the messages' },
    },
    async ({ query: { limit } }) => ({ items: readMailbox(mailboxDir, limit) }),
  );

  routes.add(
    {
      method: 'get', path: '/dev/mail', tag: 'development', access: 'public',
      summary: 'The local SMTP sink as a web page (embedded demo only)',
      query,
      responses: { 200: 'an HTML page' },
    },
    async ({ query: { limit }, res }) => {
      const messages = readMailbox(mailboxDir, limit);
      const body = messages.length
        ? messages
            .map(
              (m) => `<article>
  <h2>${escapeHtml(m.subject)}</h2>
  <div class="meta">To ${escapeHtml(m.to.join(', '))} · from ${escapeHtml(m.from)} · ${escapeHtml(m.receivedAt)}</div>
  <pre>${linkify(m.text)}</pre>
</article>`,
            )
            .join('\n')
        : '<p>No mail yet. Emails that assetflow sends (approval tasks, reminders, notices) appear here.</p>';
      res.type('html').send(page('Mail', `<h1>Mail caught by the local SMTP sink</h1>\n${body}`));
    },
  );
}
