// Lifecycle hooks. `installed` is ACE's own route (signed-install verification, then clientInfo is
// saved); `uninstalled` is ours: after the same RS256 check it forgets the tenant's Jira tokens and
// its clientInfo (invariant 8).

import express, { type Router } from 'express';
import { connectJwtPrecheck } from 'jira-token-rotation/ace';
import { asyncRoute } from '../app/async-route';
import type { RouteDeps } from './types';

/** POST /uninstalled, and a log line per install. */
export function lifecycleRoutes(deps: Pick<RouteDeps, 'addon' | 'tokens' | 'logger'>): Router {
  const { addon, tokens, logger } = deps;
  addon.on('host_settings_saved', (clientKey: unknown) => {
    logger.info({ event: 'installed', clientKey }, 'Installed');
  });
  const precheck = connectJwtPrecheck({ logger });
  const router = express.Router();
  // ACE's own /installed route follows ours: a token the precheck refuses never reaches it.
  router.post('/installed', precheck);
  router.post(
    '/uninstalled',
    precheck,
    // Verifies the RS256 JWT against the install-key CDN and that it was issued for the payload's clientKey.
    addon.authenticateInstall(),
    asyncRoute(async (req, res) => {
      const clientKey = (req as typeof req & { context: { clientKey: string } }).context.clientKey;
      // Tokens first: should this fail, clientInfo is still there and the event can be resent.
      const purged = await tokens.purgeTenant(clientKey);
      await addon.settings.del('clientInfo', clientKey);
      logger.info(
        { event: 'uninstalled', clientKey, purged },
        'Uninstalled: tokens and installation forgotten',
      );
      res.status(204).end();
    }),
  );
  return router;
}
