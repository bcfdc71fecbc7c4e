// Bearer authentication of the API endpoints, with the gateway's 401 body and the API counters.

import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AccessGrant } from './access-tokens';
import type { SimContext } from './context';

/** The gateway's answer to a missing, unknown or expired token. */
export function sendUnauthorized(ctx: SimContext, res: Response, message = 'Unauthorized'): void {
  ctx.stats.counters.apiUnauthorized += 1;
  res.status(401).json({ code: 401, message });
}

/** Counts the request and authenticates its Bearer token; the grant goes to `res.locals.grant`. */
export function bearer(ctx: SimContext): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    ctx.stats.counters.apiRequests += 1;
    const match = /^Bearer ([^\s]+)$/i.exec(req.get('authorization') ?? '');
    const grant = match ? ctx.accessTokens.lookup(match[1], ctx.clock.now()) : undefined;
    if (grant === undefined) return sendUnauthorized(ctx, res);
    res.locals.grant = grant;
    next();
  };
}

/** Requires one scope of the authenticated grant; the gateway says 401 when it is missing. */
export function requireScope(ctx: SimContext, scope: string): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction) => {
    if (!grantOf(res).scopes.has(scope))
      return sendUnauthorized(ctx, res, 'Unauthorized; scope does not match');
    next();
  };
}

/** The grant `bearer` stored. */
export function grantOf(res: Response): AccessGrant {
  return res.locals.grant as AccessGrant;
}
