// The app process's Express server: a bare JSON route, the same route behind this project's
// middleware (the hot path), and one timed route per strategy (bursts and scale).

import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { performance } from 'node:perf_hooks';
import type { UserRef } from 'jira-token-rotation';
import { epochMs } from '../clock';
import type { ResolveUser, Strategy } from '../strategies/types';

export const ACCOUNT_HEADER = 'x-bench-account';
export const TENANT = 'bench-tenant';

/** The user named by the request's header; one tenant for the whole benchmark. */
export const resolveUser: ResolveUser = (req: Request): UserRef | null => {
  const accountId = req.get(ACCOUNT_HEADER);
  return accountId ? { clientKey: TENANT, accountId } : null;
};

/** What the server measured of each request of a burst. */
export class RequestLog {
  serverMs: number[] = [];
  tokenMs: number[] = [];
  /** Epoch ms: the first handler entry, the first and last token in hand, the last answer sent. */
  firstEntryAt = NaN;
  firstTokenAt = NaN;
  lastTokenAt = NaN;
  lastFinishAt = NaN;

  reset(): void {
    this.serverMs = [];
    this.tokenMs = [];
    this.firstEntryAt = this.firstTokenAt = this.lastTokenAt = this.lastFinishAt = NaN;
  }

  entered(): void {
    if (Number.isNaN(this.firstEntryAt)) this.firstEntryAt = epochMs();
  }

  tokenReady(ms: number): void {
    this.tokenMs.push(ms);
    this.lastTokenAt = epochMs();
    if (Number.isNaN(this.firstTokenAt)) this.firstTokenAt = this.lastTokenAt;
  }

  finished(ms: number): void {
    this.serverMs.push(ms);
    this.lastFinishAt = epochMs();
  }
}

/** Shaped like the simulator's cloudIds, so the constant route's JSON is as long as the token route's. */
const CONSTANT_JIRA = Object.freeze({
  accessToken: 'constant',
  expiresAt: 0,
  cloudId: '00000000-0000-4000-8000-000000000000',
  fetch: (): Promise<globalThis.Response> => Promise.reject(new Error('not a real token')),
});

function attachConstantToken(req: Request, _res: Response, next: NextFunction): void {
  if (resolveUser(req)) req.jira = CONSTANT_JIRA;
  next();
}

export function createAppServer(strategies: Strategy[], log: RequestLog): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/health', (_req, res) => res.json({ ok: true }));

  // The hot path: the same JSON answer, without and with the middleware.
  app.get('/hot/bare', (_req, res) => res.json({ ok: true, cloudId: null }));
  const project = strategies.find((s) => s.name === 'this-project');
  if (project) {
    const answer = (req: Request, res: Response): void =>
      void res.json({ ok: true, cloudId: req.jira?.cloudId ?? null });
    app.get('/hot/jira', project.middleware(resolveUser), answer);
    // The framework's share: a second handler that resolves the user and attaches a constant
    // `req.jira`, so the answer is the same bytes as the token route's, and no library call.
    app.get('/hot/constant', attachConstantToken, answer);
  }

  for (const strategy of strategies) {
    const token = strategy.middleware(resolveUser);
    app.get(
      `/s/${strategy.name}`,
      (req, res, next) => {
        const start = performance.now();
        log.entered();
        res.on('finish', () => log.finished(performance.now() - start));
        token(req, res, (error?: unknown) => {
          log.tokenReady(performance.now() - start);
          next(error);
        });
      },
      (req, res) => res.json({ expiresAt: req.jira?.expiresAt ?? res.locals.expiresAt }),
    );
  }

  // A failure the middleware did not answer itself: a 500, quietly (the status is what we count).
  app.use((_error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: 'internal' });
  });
  return app;
}
