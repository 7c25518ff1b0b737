/** A person's own settings: the time zone they read times in (issue 15) */
import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

export const PROFILE_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerProfilePages(_router: Router, _kit: WebKit): void {}
