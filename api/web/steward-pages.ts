/**
 * The data steward's pages (issue 16): the cases and one case with its records side by side.
 * Built by the steward helper.
 */
import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

export const STEWARD_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerStewardPages(router: Router, kit: WebKit): void {
  void router;
  void kit;
}
