/**
 * Inventory feeds (issue 16): batches uploaded by a named source, their progress and report, and
 * the identification and reconciliation rules and sources, edited as data. Built by the intake helper.
 */
import type { AppDeps } from '../app';
import type { RouteRegistry } from '../routes-registry';

export function registerInventoryRoutes(routes: RouteRegistry, deps: AppDeps): void {
  void routes;
  void deps;
}
