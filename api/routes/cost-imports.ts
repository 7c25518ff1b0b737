import type { AppDeps } from '../app';
import type { RouteRegistry } from '../routes-registry';

/** Scaffolding of issue 17: built next. */
export function registerCostImportRoutes(_routes: RouteRegistry, _deps: AppDeps): void {}
