// GET and POST /authorize: the consent page and its decision, redirecting to the app with a code or an error.

import express, { type Request, type Response, type Router } from 'express';
import { parseAuthorizeParams, type AuthorizeParams } from '../authorize-params';
import { renderConsentPage, renderErrorPage } from '../consent-page';
import type { SimContext } from '../context';

// Atlassian's consent page cannot be framed and must not be cached; neither can this one.
function htmlHeaders(res: Response): void {
  res.set({
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
  });
}

function refuse(res: Response, message: string): void {
  htmlHeaders(res);
  res.status(400).type('html').send(renderErrorPage(message));
}

function redirectBack(res: Response, params: AuthorizeParams, extra: Record<string, string>): void {
  const target = new URL(params.redirectUri);
  for (const [name, value] of Object.entries(extra)) target.searchParams.set(name, value);
  if (params.state !== undefined) target.searchParams.set('state', params.state);
  res.set('Cache-Control', 'no-store');
  res.redirect(302, target.toString());
}

/** The authorize endpoints. */
export function authorizeRoutes(ctx: SimContext): Router {
  const router = express.Router();
  const { accounts, clientId } = ctx.options;

  router.get('/authorize', (req: Request, res: Response) => {
    const parsed = parseAuthorizeParams(req.query, clientId);
    if (!parsed.ok) return refuse(res, parsed.message);
    const hint = req.query.login_hint;
    const hinted = accounts.find((a) => a.accountId === hint || a.email === hint);
    htmlHeaders(res);
    res.type('html').send(
      renderConsentPage({
        action: `${req.baseUrl}/authorize`,
        params: parsed.params,
        accounts,
        selectedAccountId: (hinted ?? accounts[0]).accountId,
      }),
    );
  });

  router.post(
    '/authorize',
    express.urlencoded({ extended: false, limit: '16kb' }),
    (req: Request, res: Response) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const parsed = parseAuthorizeParams(body, clientId);
      if (!parsed.ok) return refuse(res, parsed.message);
      const decision = body.decision ?? 'accept';
      if (decision === 'deny') return redirectBack(res, parsed.params, { error: 'access_denied' });
      if (decision !== 'accept') return refuse(res, 'Unknown decision.');
      const account = accounts.find((a) => a.accountId === body.account_id);
      if (account === undefined) return refuse(res, 'Unknown account.');
      const code = ctx.codes.issue(
        {
          clientId: parsed.params.clientId,
          redirectUri: parsed.params.redirectUri,
          accountId: account.accountId,
          scope: parsed.params.scope,
        },
        ctx.clock.now(),
      );
      redirectBack(res, parsed.params, { code });
    },
  );

  return router;
}
