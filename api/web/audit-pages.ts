import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

export const AUDIT_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerAuditPages(_router: Router, _kit: WebKit): void {}
