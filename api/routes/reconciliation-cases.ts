/**
 * Data steward cases (issue 16): list and read them; they are decided through the approval inbox.
 * Built by the steward helper.
 */
import type { AppDeps } from '../app';
import type { RouteRegistry } from '../routes-registry';

export function registerReconciliationCaseRoutes(routes: RouteRegistry, deps: AppDeps): void {
  void routes;
  void deps;
}
