/**
 * The inventory pages (issue 16): batches with their progress, the upload with its dry run, the
 * report row by row (old -> new and the rule that allowed it), and the rules and sources. Built by
 * the pages helper.
 */
import type { Router } from 'express';
import type { WebKit, WebRoute } from './router';

export const INVENTORY_PAGE_ROUTES: readonly WebRoute[] = [];

export function registerInventoryPages(router: Router, kit: WebKit): void {
  void router;
  void kit;
}
