import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { viewerTimeZone } from '../../domain/time-zones';
import { readMailbox } from '../../platform/mail-sink';
import type { RateLimit } from '../../platform/rate-limits';
import { authenticate, hasAnyRole, webSessionOf } from '../auth';
import { forbidden } from '../errors';
import type { RouteRegistry } from '../routes-registry';
import { sendHtml } from '../web/html';
import { mailboxPage } from '../web/mailbox-page';
import { errorPage } from '../web/views';

/*
 * The local SMTP sink's messages, for a newcomer running the embedded demo without a mail account.
 * Mounted only when the embedded demo runs the sink (MAILBOX_DIR, set by npm start), and only for
 * admins: the messages hold every live approval link, and a link is the approver's vote.
 */

const ADMINS_ONLY = 'the local mail sink is shown to admins only: its messages hold other people\'s approval links';

const query = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });

/** GET /dev/mail.json, for an admin's API key. */
export function registerDevMailboxRoutes(routes: RouteRegistry, mailboxDir: string): void {
  routes.add(
    {
      method: 'get', path: '/dev/mail.json', tag: 'development', access: ['admin'],
      summary: 'Messages received by the local SMTP sink, newest first (embedded demo only)',
      query,
      responses: { 200: 'the messages', 401: 'no valid API key', 403: 'not an admin' },
    },
    async ({ query: { limit } }) => ({ items: readMailbox(mailboxDir, limit) }),
  );
}

export interface DevMailboxPageDeps {
  db: Knex;
  mailboxDir: string;
  /** Failed API keys count here, as on every route. */
  authFailures: RateLimit;
  /** The organisation's time zone (TIME_ZONE): the page shows times in the admin's own, else this one. */
  timeZone?: string;
}

/**
 * GET /dev/mail: the same messages as a page, for an admin signed in to the web UI (or sending an
 * admin's API key). Anyone else signed in is refused; a visitor is sent to sign in first.
 */
export function devMailboxPage({ db, mailboxDir, authFailures, timeZone }: DevMailboxPageDeps): Router {
  const router = Router();
  router.get('/dev/mail', async (req: Request, res: Response, next: NextFunction) => {
    const parsed = query.safeParse(req.query);
    if (!parsed.success) return next(parsed.error);
    if (req.get('authorization')) {
      const principal = await authenticate(db, req, authFailures);
      if (!hasAnyRole(principal, ['admin'])) throw forbidden(ADMINS_ONLY);
      return sendHtml(res, 200, mailboxPage(readMailbox(mailboxDir, parsed.data.limit), viewerTimeZone(principal.timeZone, timeZone)));
    }
    const user = (await webSessionOf(db, req))?.user;
    if (!user) return res.redirect(303, `/ui/sign-in?next=${encodeURIComponent(req.originalUrl)}`);
    if (!hasAnyRole(user, ['admin'])) return sendHtml(res, 403, errorPage(undefined, 'Admins only', ADMINS_ONLY));
    sendHtml(res, 200, mailboxPage(readMailbox(mailboxDir, parsed.data.limit), viewerTimeZone(user.timeZone, timeZone)));
  });
  return router;
}
