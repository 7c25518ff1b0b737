import { z } from 'zod';
import { readMailbox } from '../../platform/mail-sink';
import type { RouteRegistry } from '../routes-registry';
import { sendHtml } from '../web/html';
import { mailboxPage } from '../web/mailbox-page';

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
      sendHtml(res, 200, mailboxPage(readMailbox(mailboxDir, limit)));
    },
  );
}
