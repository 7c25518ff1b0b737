import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

/** Scaffolding of issue 17: built next. */
export const FINOPS_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerFinopsPages(_router: Router, _kit: WebKit): void {}
