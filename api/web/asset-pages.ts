/** Asset managers see an asset and move it through its lifecycle (issue 15) */
import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

export const ASSET_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerAssetPages(_router: Router, _kit: WebKit): void {}
