import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

export const MASTER_DATA_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerMasterDataPages(_router: Router, _kit: WebKit): void {}
