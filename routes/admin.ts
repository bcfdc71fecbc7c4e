// GET /admin/jira-connections: the Connect admin page (descriptor `adminPages`). It lists the
// tenant's connected users and the state of each one's Jira chain, never a token. ACE verifies the
// JWT with its qsh, so only a JWT the product signed for this very URL opens it: a macro's JWT, a
// context token (`AP.context.getToken()`) or another tenant's JWT cannot.

import express, { type Request, type Router } from 'express';
import { connectJwtPrecheck, forgetAceSessionToken } from 'jira-token-rotation/ace';
import { asyncRoute } from '../app/async-route';
import { connectionRows } from '../app/connection-rows';
import { ADMIN_PATH, type RouteDeps } from './types';

/** At most this many users are shown: a page an admin can read, and a bounded cost per view. */
export const ADMIN_PAGE_CAP = 200;

/** The tenant ACE verified (`authenticate()` sets it from the JWT's issuer). */
function verifiedClientKey(req: Request): string | undefined {
  const value = (req as Request & { context?: { clientKey?: unknown } }).context?.clientKey;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** GET /admin/jira-connections. */
export function adminRoutes(
  deps: Pick<RouteDeps, 'addon' | 'tokens' | 'headers' | 'endpoints' | 'logger'>,
): Router {
  const { addon, tokens, headers, endpoints, logger } = deps;
  const router = express.Router();
  router.get(
    ADMIN_PATH,
    connectJwtPrecheck({ logger }),
    addon.authenticate(),
    headers.macroPage,
    forgetAceSessionToken,
    asyncRoute(async (req, res) => {
      const clientKey = verifiedClientKey(req);
      if (clientKey === undefined) return void res.status(401).type('text').send('Unauthorized');
      // Pages until more than the cap are read; SCAN pages vary in size and may repeat a user.
      const users = [];
      let cursor: string | undefined;
      do {
        const page = await tokens.listTenant(clientKey, { cursor, limit: ADMIN_PAGE_CAP });
        users.push(...page.users);
        cursor = page.cursor;
      } while (cursor !== undefined && users.length <= ADMIN_PAGE_CAP);
      const all = connectionRows(users);
      const more = all.length > ADMIN_PAGE_CAP || cursor !== undefined;
      const rows = all.slice(0, ADMIN_PAGE_CAP);
      res.render('admin', {
        title: 'Jira connections',
        scripts: [endpoints.hostScriptUrl],
        rows,
        count: rows.length,
        empty: rows.length === 0,
        more,
        cap: ADMIN_PAGE_CAP,
      });
    }),
  );
  return router;
}
