import type { NextFunction, Request, Response } from 'express';
import { pageOfApiPath } from '../domain/web-links';

/**
 * Emails sent before the web UI had pages linked API URLs (GET /changes/CHG…, /purchase-requests/PR…,
 * /assets/…, /processes/…, /people/…). A browser opening one (it asks for HTML and sends no
 * Authorization header) is sent to the matching page under /ui, which asks it to sign in if need
 * be; API clients get the JSON answer as before.
 */
export function browserRedirects() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const page = req.method === 'GET' || req.method === 'HEAD' ? pageOfApiPath(req.path) : undefined;
    if (!page) {
      next();
      return;
    }
    // The same URL answers a redirect or JSON by these headers: a cache must keep the answers apart.
    res.vary('Accept');
    res.vary('Authorization');
    if (req.headers.authorization || req.accepts(['json', 'html']) !== 'html') next();
    else res.redirect(303, page);
  };
}
