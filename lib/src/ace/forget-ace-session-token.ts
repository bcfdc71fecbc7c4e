// ACE mints a session JWT on every authenticated request; an app that never uses it drops it here.

import type { Request, RequestHandler } from 'express';

/** The part of ACE's `req.context` this middleware touches. */
interface AceContext {
  token?: string;
}

/**
 * ACE mints a session JWT on every authenticated request (header `X-acpt`, `res.locals.token`,
 * `req.context.token`). An app whose iframe asks `AP.context.getToken()` never uses it, so this
 * drops it before any view could render it or any header carry it. Mount it after ACE's
 * `authenticate()` or `checkValidToken()`.
 */
export const forgetAceSessionToken: RequestHandler = (req, res, next) => {
  res.removeHeader('X-acpt');
  if (res.locals) delete res.locals.token;
  const context = (req as Request & { context?: AceContext }).context;
  if (context) delete context.token;
  next();
};
