// POST /oauth/token: the two grants, and the chaos that shapes (or withholds) refresh answers.

import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { SimContext } from '../context';
import {
  type GatewayErrorStatus,
  gatewayErrorPage,
  INVALID_REFRESH_TOKEN,
  sendOAuthError,
} from '../oauth-errors';
import type { GrantResult } from '../token-issuer';
import { parseTokenRequest } from '../token-request';
import type { ScriptedStep } from '../types';

const BODY_LIMIT = '16kb';

/** The token endpoint. Latency chaos delays every answer it gives after the body is parsed. */
export function tokenRoutes(ctx: SimContext): Router {
  const router = express.Router();
  const { counters } = ctx.stats;

  function deliver(res: Response, result: GrantResult, invalidDescription: string): void {
    if (!result.ok) {
      counters.invalidGrant += 1;
      return sendOAuthError(res, 'invalid_grant', invalidDescription);
    }
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    res.status(200).json(result.body);
  }

  function gatewayError(res: Response, status: GatewayErrorStatus): void {
    res.status(status).type('html').send(gatewayErrorPage(status));
  }

  // The outcome decides how the answer is delivered. `server_error`, `gateway_timeout` and `hang`
  // never touch the family; `commit_late` commits after its delay; the others commit first, whatever the
  // verdict, then shape or withhold the answer.
  function refresh(
    req: Request,
    res: Response,
    refreshToken: string,
    outcome: ScriptedStep,
    delayMs: number,
  ) {
    const { chaos } = counters;
    const later = (answer: () => void) => ctx.connections.later(req, delayMs, answer);
    if (typeof outcome === 'object') {
      // Held in front of the server: the commit comes later whatever the client does meanwhile,
      // and an answer only reaches a client still waiting for it.
      chaos.lateCommits += 1;
      ctx.connections.hold(req);
      return ctx.lateCommits.hold(outcome, () => {
        const result = ctx.issuer.refresh(refreshToken);
        if (!req.socket.destroyed) deliver(res, result, INVALID_REFRESH_TOKEN);
      });
    }
    if (outcome === 'server_error') {
      chaos.serverErrors += 1;
      return later(() => gatewayError(res, 500));
    }
    if (outcome === 'gateway_timeout') {
      chaos.serverErrors += 1;
      return later(() => gatewayError(res, 504));
    }
    if (outcome === 'hang') {
      chaos.timeouts += 1;
      return ctx.connections.hold(req);
    }
    const result = ctx.issuer.refresh(refreshToken);
    switch (outcome) {
      case 'server_error_after_commit':
        chaos.serverErrors += 1;
        return later(() => gatewayError(res, 502));
      case 'gateway_timeout_after_commit':
        chaos.serverErrors += 1;
        return later(() => gatewayError(res, 504));
      case 'hang_after_commit':
        chaos.timeouts += 1;
        return ctx.connections.hold(req);
      case 'drop_after_commit':
        chaos.drops += 1;
        return later(() => req.socket.destroy());
      case 'missing_refresh_token':
        if (result.ok) {
          chaos.missingRefreshTokens += 1;
          const { refresh_token: _dropped, ...withoutRefreshToken } = result.body;
          return later(() => deliver(res, { ok: true, body: withoutRefreshToken }, INVALID_REFRESH_TOKEN));
        }
        break;
      case 'ok':
        break;
    }
    later(() => deliver(res, result, INVALID_REFRESH_TOKEN));
  }

  router.post(
    '/oauth/token',
    (_req: Request, _res: Response, next: NextFunction) => {
      counters.tokenRequests += 1;
      next();
    },
    express.json({ limit: BODY_LIMIT }),
    express.urlencoded({ extended: false, limit: BODY_LIMIT }),
    (req: Request, res: Response) => {
      const delayMs = ctx.chaos.delayMs();
      const later = (answer: () => void) => ctx.connections.later(req, delayMs, answer);
      const parsed = parseTokenRequest(req.body, ctx.options);
      if ('error' in parsed) {
        if (parsed.error === 'invalid_client') counters.invalidClient += 1;
        return later(() => sendOAuthError(res, parsed.error, parsed.description));
      }
      if (parsed.grantType === 'refresh_token') {
        return refresh(req, res, parsed.refreshToken, ctx.chaos.nextOutcome(), delayMs);
      }
      const result = ctx.issuer.exchangeCode(parsed.code, parsed.clientId, parsed.redirectUri);
      later(() => deliver(res, result, 'Invalid authorization code'));
    },
    // Body parser failures (malformed JSON, too large) are answered like any other bad request.
    (err: { type?: string }, _req: Request, res: Response, _next: NextFunction) => {
      if (err.type === 'entity.too.large') {
        res.set('Cache-Control', 'no-store');
        res.status(413).json({ error: 'invalid_request', error_description: 'Request body too large.' });
        return;
      }
      sendOAuthError(res, 'invalid_request', 'Malformed request body.');
    },
  );

  return router;
}
