// Mounts every route of the app. Protected routes authenticate with ACE first; the Jira token
// middleware comes after ACE, because it needs the verified Connect user.

import type { Express } from 'express';
import { adminRoutes } from './admin';
import { healthRoutes } from './health';
import { lifecycleRoutes } from './lifecycle';
import { macroRoutes } from './macro';
import { sandboxRoutes } from './sandbox';
import { CONSENT_BASE, type RouteDeps } from './types';

export type { RouteDeps } from './types';

/** Mounts the routes, the sandbox's only in the sandbox. */
export default function routes(app: Express, deps: RouteDeps): void {
  app.use(healthRoutes(deps));
  app.use(lifecycleRoutes(deps));
  app.use(macroRoutes(deps));
  // The package's consent router: the popup flow, and the iframe's status and disconnect calls.
  app.use(CONSENT_BASE, deps.consent);
  app.use(adminRoutes(deps));
  if (deps.sandbox) app.use(sandboxRoutes({ ...deps, sandbox: deps.sandbox }));
}
