// The Jira gateway subset: /ex/jira/{cloudId}/rest/api/3/myself and /search/jql (GET and POST).

import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { bearer, grantOf, requireScope, sendUnauthorized } from '../bearer';
import type { SimContext } from '../context';
import { parseSearch, searchPage, type SearchInput } from '../jira-search';

const API = '/ex/jira/:cloudId/rest/api/3';

/** The gateway URL of a site's REST API, as the caller reached it (prefix included). */
function restBase(req: Request, cloudId: string): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}${req.baseUrl}/ex/jira/${encodeURIComponent(cloudId)}/rest/api/3`;
}

/** Jira endpoints behind api.atlassian.com. */
export function jiraRoutes(ctx: SimContext): Router {
  const router = express.Router();

  // Scripted answers (rate limits, outages, drops) come before everything, as a gateway's would.
  router.use('/ex/jira', (req: Request, res: Response, next: NextFunction) => {
    const answer = ctx.apiScript.next();
    if (answer === undefined) return next();
    ctx.stats.counters.apiRequests += 1;
    if ('drop' in answer) return void req.socket.destroy();
    if (answer.retryAfterSeconds !== undefined)
      res.setHeader('Retry-After', String(answer.retryAfterSeconds));
    res.status(answer.status).json({ code: answer.status, message: 'Scripted answer' });
  });

  // An unknown site is 404; a known site the account cannot reach is 401, as the gateway answers.
  const siteAccess = (req: Request, res: Response, next: NextFunction) => {
    const site = ctx.options.sites.find((s) => s.id === req.params.cloudId);
    if (site === undefined) return res.status(404).json({ code: 404, message: 'Not Found' });
    const account = ctx.options.accounts.find((a) => a.accountId === grantOf(res).accountId);
    if (account === undefined || !account.siteIds.includes(site.id)) return sendUnauthorized(ctx, res);
    next();
  };

  router.get(`${API}/myself`, bearer(ctx), siteAccess, requireScope(ctx, 'read:jira-user'), (req, res) => {
    const account = ctx.options.accounts.find((a) => a.accountId === grantOf(res).accountId);
    if (account === undefined) return res.status(404).json({ code: 404, message: 'Not Found' });
    res.json({
      self: `${restBase(req, req.params.cloudId)}/user?accountId=${encodeURIComponent(account.accountId)}`,
      accountId: account.accountId,
      accountType: 'atlassian',
      emailAddress: account.email,
      displayName: account.name,
      active: true,
      timeZone: 'Etc/UTC',
      locale: 'en_US',
    });
  });

  function answerSearch(req: Request, res: Response, input: SearchInput): void {
    const cloudId = req.params.cloudId;
    const parsed = parseSearch(input, cloudId);
    if (!parsed.ok) {
      res.status(400).json({ errorMessages: [parsed.message], errors: {} });
      return;
    }
    res.json(searchPage(ctx.issues.get(cloudId) ?? [], parsed.query, restBase(req, cloudId), cloudId));
  }
  const searchChecks = [bearer(ctx), siteAccess, requireScope(ctx, 'read:jira-work')];

  router.get(`${API}/search/jql`, ...searchChecks, (req: Request, res: Response) =>
    answerSearch(req, res, req.query),
  );
  router.post(
    `${API}/search/jql`,
    ...searchChecks,
    express.json({ limit: '16kb' }),
    (req: Request, res: Response) => {
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return res.status(400).json({ errorMessages: ['The body must be a JSON object.'], errors: {} });
      }
      answerSearch(req, res, body as SearchInput);
    },
  );

  return router;
}
