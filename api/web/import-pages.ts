import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

export const IMPORT_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerImportPages(_router: Router, _kit: WebKit): void {}
