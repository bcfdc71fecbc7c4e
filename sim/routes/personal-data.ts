// POST /app/report-accounts/: the personal data reporting API of api.atlassian.com (OAuth 2.0
// apps), and its test controls: close an account, mark it updated, force 429s.

import express, { type Request, type Response, type Router } from 'express';
import { bearer } from '../bearer';
import type { SimContext } from '../context';
import { parseReport } from '../personal-data';

const MAX_RETRY_AFTER_SECONDS = 86_400;

function badRequest(res: Response, message: string): void {
  res.status(400).json({ code: 400, message });
}

/** The report endpoint and its controls. */
export function personalDataRoutes(ctx: SimContext): Router {
  const router = express.Router();
  const counters = () => ctx.stats.counters.personalData;

  router.post(
    ['/app/report-accounts', '/app/report-accounts/'],
    bearer(ctx),
    express.json({ limit: '64kb' }),
    (req: Request, res: Response) => {
      const retryAfter = ctx.personalData.takeThrottle();
      if (retryAfter !== undefined) {
        counters().throttled += 1;
        res.set('Retry-After', String(retryAfter));
        return void res.status(429).json({ code: 429, message: 'Too Many Requests' });
      }
      const parsed = parseReport(req.body);
      if (!parsed.ok) {
        counters().rejected += 1;
        return badRequest(res, parsed.message);
      }
      counters().reports += 1;
      counters().accountsReported += parsed.accounts.length;
      const actions = ctx.personalData.actions(parsed.accounts);
      counters().closedAnswers += actions.filter((a) => a.status === 'closed').length;
      counters().updatedAnswers += actions.filter((a) => a.status === 'updated').length;
      if (actions.length === 0) return void res.status(204).end();
      res.json({ accounts: actions });
    },
  );

  // Controls (not Atlassian's API).
  const json = express.json({ limit: '1kb' });
  router.post('/accounts/:accountId/close', (req: Request, res: Response) => {
    ctx.personalData.close(req.params.accountId);
    res.status(204).end();
  });
  router.post('/accounts/:accountId/updated', (req: Request, res: Response) => {
    ctx.personalData.markUpdated(req.params.accountId, ctx.clock.now());
    res.status(204).end();
  });
  router.post('/report-accounts/throttle', json, (req: Request, res: Response) => {
    const { count, retryAfterSeconds } = (req.body ?? {}) as Record<string, unknown>;
    if (!Number.isSafeInteger(count) || (count as number) < 0)
      return badRequest(res, 'count must be a non-negative integer');
    if (
      !Number.isSafeInteger(retryAfterSeconds) ||
      (retryAfterSeconds as number) < 0 ||
      (retryAfterSeconds as number) > MAX_RETRY_AFTER_SECONDS
    )
      return badRequest(res, `retryAfterSeconds must be an integer from 0 to ${MAX_RETRY_AFTER_SECONDS}`);
    ctx.personalData.throttle(count as number, retryAfterSeconds as number);
    res.status(204).end();
  });

  return router;
}
