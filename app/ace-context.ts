// What this app reads from ACE's verified request context, and the one thing it removes from it.

import type { RequestHandler, Request } from 'express';
import type { UserRef } from 'jira-token-rotation';
import { aceUserResolver } from 'jira-token-rotation/ace';

/** The part of ACE's `req.context` this app uses; set by `authenticate()` or `checkValidToken()`. */
interface AceContext {
  clientKey?: string;
  hostBaseUrl?: string;
  token?: string;
}

/**
 * ACE mints a session JWT on every authenticated request (header `X-acpt`, `res.locals.token`,
 * `req.context.token`). This app never uses it (the iframe asks `AP.context.getToken()`), so it is
 * dropped before any view could render it or any header carry it.
 */
export const forgetAceSessionToken: RequestHandler = (req, res, next) => {
  res.removeHeader('X-acpt');
  delete res.locals.token;
  const context = (req as Request & { context?: AceContext }).context;
  if (context) delete context.token;
  next();
};

/**
 * The verified Connect user, or `null` for an anonymous viewer.
 * @throws InvalidUserError (a 400) for an identity the token store would refuse: checked here,
 *   where it is a bad request, rather than deep in the token manager, where it was a 500.
 */
export function connectUser(req: Request): UserRef | null {
  return aceUserResolver(req);
}

/** The verified Confluence base URL of the request's tenant, e.g. `https://x.atlassian.net/wiki`. */
export function tenantBaseUrl(req: Request): string | undefined {
  const value = (req as Request & { context?: AceContext }).context?.hostBaseUrl;
  return typeof value === 'string' && value !== '' ? value : undefined;
}
