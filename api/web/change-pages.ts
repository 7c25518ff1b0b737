/** Requesters submit changes (with the impact preview) and follow them; implementers record their work (issue 15) */
import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

export const CHANGE_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerChangePages(_router: Router, _kit: WebKit): void {}
