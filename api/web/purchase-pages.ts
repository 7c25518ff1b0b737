/** Requesters buy from the catalogue and follow their purchases; receivers record deliveries (issue 15) */
import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

export const PURCHASE_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerPurchasePages(_router: Router, _kit: WebKit): void {}
