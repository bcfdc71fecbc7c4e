// GET /macro/jira-issues: the Confluence macro. ACE verifies the Connect JWT, the token manager
// puts a fresh Jira token on `req.jira` (one rotation per burst), and the page shows the JQL's
// issues, or what the user can do about it: connect, reconnect, retry. Exports and anonymous
// viewers get a neutral rendering and cost no token.

import express, { type Request, type Response, type Router } from 'express';
import { ErrorCodes, JiraTokenError } from 'jira-token-rotation';
import { aceUserResolver, connectJwtPrecheck, forgetAceSessionToken } from 'jira-token-rotation/ace';
import { asyncRoute } from '../app/async-route';
import { macroParams, searchIssues } from '../app/issue-search';
import { ReconnectNotices } from '../app/reconnect-notices';
import { SiteUrls } from '../app/site-urls';
import { CONSENT_BASE, MACRO_PATH, type RouteDeps } from './types';

/** Confluence's interactive output types; anything else (pdf, word, email, export…) is an export. */
const INTERACTIVE_OUTPUT = new Set(['', 'display', 'preview']);

/** An error's name for a log line, never its message. No `instanceof`: fetch's errors may come from another realm. */
function errorName(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : 'error';
}

function isExport(req: Request): boolean {
  const outputType = req.query.outputType;
  return typeof outputType === 'string' && !INTERACTIVE_OUTPUT.has(outputType);
}

/** GET /macro/jira-issues. */
export function macroRoutes(
  deps: Pick<RouteDeps, 'addon' | 'tokens' | 'headers' | 'endpoints' | 'logger'>,
): Router {
  const { addon, tokens, headers, endpoints, logger } = deps;
  // The consent router's browser helper first: macro.js connects Jira through it.
  const scripts = [endpoints.hostScriptUrl, `${CONSENT_BASE}/consent.js`, '/public/macro.js'];
  const siteUrls = new SiteUrls(tokens);
  const reconnectNotices = new ReconnectNotices(tokens, logger);

  const renderConnect = (res: Response, reconnect: boolean): void =>
    res.render('connect', {
      title: 'Connect Jira',
      scripts,
      reconnect,
      state: reconnect ? 'reconnect' : 'connect',
    });
  const renderRetry = (res: Response, retryAfterSeconds: number): void => {
    res.setHeader('Retry-After', String(retryAfterSeconds));
    res.status(503).render('retry', { title: 'Jira is unavailable', scripts });
  };
  const renderNotice = (res: Response, state: string, message: string, details: string[] = []): void =>
    res.render('notice', { title: 'Jira issues', scripts, state, message, details });

  const router = express.Router();
  router.get(
    MACRO_PATH,
    connectJwtPrecheck({ logger }),
    addon.authenticate(),
    headers.macroPage,
    forgetAceSessionToken,
    tokens.middleware({
      // An export has no one to show a button to, and must not spend a rotation.
      resolveUser: (req) => (isExport(req) ? null : aceUserResolver(req)),
      onConsentRequired: (error, _req, res) =>
        renderConnect(res, error.code === ErrorCodes.REAUTHORIZATION_REQUIRED),
      onUnavailable: (error, _req, res) => renderRetry(res, error.retryAfterSeconds ?? 5),
    }),
    asyncRoute(async (req, res) => {
      if (!req.jira) {
        return renderNotice(
          res,
          'neutral',
          isExport(req)
            ? 'Jira issues are shown on the live page.'
            : 'Log in to see the Jira issues of this page.',
        );
      }
      const user = aceUserResolver(req)!;
      const params = macroParams(req.query);
      // Asked alongside the search, so it adds no latency; it never rejects.
      const reconnectSoon = reconnectNotices.of(user, req.jira.accessToken);
      let outcome;
      try {
        outcome = await searchIssues(req.jira, params);
      } catch (error) {
        // A 401 made `req.jira.fetch` ask for the token that replaced the refused one.
        if (error instanceof JiraTokenError) {
          return error.needsConsent
            ? renderConnect(res, error.code === ErrorCodes.REAUTHORIZATION_REQUIRED)
            : renderRetry(res, error.retryAfterSeconds ?? 5);
        }
        logger.warn({ event: 'jira_unreachable', ...user, err: errorName(error) }, 'Jira call failed');
        return renderRetry(res, 5);
      }
      switch (outcome.kind) {
        case 'issues': {
          const [site, reconnect] = await Promise.all([siteUrls.of(user, req.jira.cloudId), reconnectSoon]);
          res.render('macro', {
            title: 'Jira issues',
            scripts,
            reconnect,
            jql: params.jql,
            issues: outcome.issues.map((issue) => ({
              ...issue,
              url: site && `${site}/browse/${encodeURIComponent(issue.key)}`,
            })),
            empty: outcome.issues.length === 0,
            more: outcome.more,
          });
          return;
        }
        case 'invalid_query':
          return renderNotice(res, 'error', 'Jira could not run this query.', outcome.messages);
        case 'refused':
          logger.warn(
            { event: 'jira_refused_fresh_token', ...user, status: outcome.status },
            'Jira refused a fresh token',
          );
          return renderConnect(res, true);
        case 'unavailable':
          return renderRetry(res, outcome.retryAfterSeconds);
      }
    }),
  );
  return router;
}
