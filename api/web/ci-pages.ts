/** Configuration items and the service map of a CI and of a change (issue 15) */
import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

export const CI_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerCiPages(_router: Router, _kit: WebKit): void {}
