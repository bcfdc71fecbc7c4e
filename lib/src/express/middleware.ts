// The Express middleware: resolve the user, attach a fresh token as `req.jira`, and turn every
// token failure into a clear answer (never a bare 500).

import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ErrorCodes, JiraTokenError } from '../errors';
import { assertValidUser } from '../valid-user';
import { type JiraClientDeps, createJiraContext, type JiraRequestContext } from './jira-client';
import type { AccessToken, UserRef } from '../types';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by the Jira token middleware for a request with a user. */
    jira?: JiraRequestContext;
  }
}

/** Options of {@link TokenManager.middleware}. */
export interface MiddlewareOptions {
  /**
   * Who the request is for: required. Connect apps pass `aceUserResolver` from
   * `jira-token-rotation/ace` (after `addon.authenticate()`); other backends read their own session.
   * Returning null or undefined (an anonymous viewer, an export) skips the token: no refresh.
   * Throwing `InvalidUserError` answers 400; any other error goes to `next(error)`.
   */
  resolveUser: (req: Request) => UserRef | null | undefined;
  /**
   * Called when the user must connect or reconnect Jira (error code `jira_not_connected` or
   * `jira_reauthorization_required`), e.g. to render a "Connect Jira" view. Default: 401 JSON
   * `{"error":"jira_reauthorization_required","reason":<code>}`.
   */
  onConsentRequired?: (error: JiraTokenError, req: Request, res: Response, next: NextFunction) => void;
  /**
   * Called for transient failures (503s). Default: 503 with `Retry-After` and JSON
   * `{"error":<code>}`.
   */
  onUnavailable?: (error: JiraTokenError, req: Request, res: Response, next: NextFunction) => void;
}

/** How `req.jira` reaches Jira: everything of {@link JiraClientDeps} but the token source. */
export type MiddlewareDeps = Omit<JiraClientDeps, 'getAccessToken'>;

interface TokenSource {
  getAccessToken(user: UserRef, options?: { rejected?: string }): Promise<AccessToken>;
  cachedAccessToken?(user: UserRef): AccessToken | undefined;
}

export function createJiraMiddleware(
  manager: TokenSource,
  deps: MiddlewareDeps,
  options: MiddlewareOptions,
): RequestHandler {
  const resolveUser = options?.resolveUser;
  if (typeof resolveUser !== 'function')
    throw new TypeError(
      "middleware({ resolveUser }) is required: a function from the request to its user (Connect apps: aceUserResolver from 'jira-token-rotation/ace')",
    );
  const onConsentRequired = options.onConsentRequired ?? defaultConsentRequired;
  const onUnavailable = options.onUnavailable ?? defaultUnavailable;
  const client: JiraClientDeps = { ...deps, getAccessToken: manager.getAccessToken.bind(manager) };

  return function jiraToken(req, res, next) {
    let user: UserRef | null | undefined;
    try {
      user = resolveUser(req);
      // A resolver's user is outside input: one the store cannot hold (too long, a lone surrogate
      // that would share another user's key) is the request's fault, a 400, never a 500.
      if (user) assertValidUser(user);
    } catch (error) {
      if (error instanceof JiraTokenError && error.status === 400)
        res.status(400).json({ error: error.code });
      else next(error);
      return;
    }
    // An anonymous viewer or an export: no token, and above all no refresh.
    if (!user) {
      next();
      return;
    }
    const who = user;
    // A cache hit continues synchronously: no promise, no extra turn of the event loop.
    const cached = manager.cachedAccessToken?.(who);
    if (cached) {
      req.jira = createJiraContext(client, who, cached);
      next();
      return;
    }
    manager.getAccessToken(who).then(
      (token) => {
        req.jira = createJiraContext(client, who, token);
        next();
      },
      (error: unknown) => {
        if (!(error instanceof JiraTokenError)) {
          next(error);
          return;
        }
        if (error.needsConsent) onConsentRequired(error, req, res, next);
        // The rotator has already logged the cause (a configuration alarm, an in-doubt chain).
        else onUnavailable(error, req, res, next);
      },
    );
  };
}

function defaultConsentRequired(error: JiraTokenError, _req: Request, res: Response): void {
  res.status(401).json({ error: ErrorCodes.REAUTHORIZATION_REQUIRED, reason: error.code });
}

function defaultUnavailable(error: JiraTokenError, _req: Request, res: Response): void {
  res.setHeader('Retry-After', String(error.retryAfterSeconds ?? 5));
  res.status(503).json({ error: error.code });
}
