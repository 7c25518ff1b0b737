import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

/** Scaffolding of issue 17: built next. */
export const COBIT_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerCobitPages(_router: Router, _kit: WebKit): void {}
