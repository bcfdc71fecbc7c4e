// GET /me and GET /oauth/token/accessible-resources: who consented, and which sites the token reaches.

import express, { type Request, type Response, type Router } from 'express';
import { bearer, grantOf, requireScope } from '../bearer';
import type { SimContext } from '../context';

const DEFAULT_PICTURE =
  'https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/default-avatar.png';

/** Identity endpoints of api.atlassian.com. */
export function identityRoutes(ctx: SimContext): Router {
  const router = express.Router();

  router.get('/me', bearer(ctx), requireScope(ctx, 'read:me'), (_req: Request, res: Response) => {
    const account = ctx.options.accounts.find((a) => a.accountId === grantOf(res).accountId);
    if (account === undefined) return res.status(404).json({ code: 404, message: 'Not Found' });
    res.json({
      account_id: account.accountId,
      email: account.email,
      name: account.name,
      picture: DEFAULT_PICTURE,
      account_status: 'active',
    });
  });

  // Reversed on purpose: callers must match sites by URL, never by position.
  router.get('/oauth/token/accessible-resources', bearer(ctx), (_req: Request, res: Response) => {
    const account = ctx.options.accounts.find((a) => a.accountId === grantOf(res).accountId);
    const siteIds = new Set(account?.siteIds ?? []);
    const sites = ctx.options.sites
      .filter((s) => siteIds.has(s.id))
      .map(({ id, name, url, scopes, avatarUrl }) => ({ id, name, url, scopes: [...scopes], avatarUrl }))
      .reverse();
    res.json(sites);
  });

  return router;
}
