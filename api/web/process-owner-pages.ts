/** Process owners nudge and reassign a process from its page (issue 15) */
import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

export const PROCESS_OWNER_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerProcessOwnerPages(_router: Router, _kit: WebKit): void {}
