import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

export const CONFIGURATION_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerConfigurationPages(_router: Router, _kit: WebKit): void {}
