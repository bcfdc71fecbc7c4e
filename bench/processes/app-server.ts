// The app process's Express server: a bare JSON route, the same route behind this project's
// middleware (the hot path), and one timed route per strategy (bursts and scale).

import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { performance } from 'node:perf_hooks';
import type { UserRef } from 'jira-token-rotation';
import { epochMs } from '../clock';
import type { ResolveUser, Strategy } from '../strategies/types';

export const ACCOUNT_HEADER = 'x-bench-account';
export const TENANT = 'bench-tenant';

/**
 * A user's tenant: `bench-tenant` when the run has one, else `bench-tenant-<n>` for one of
 * `tenants`, by a hash of the account id, so that a Redis Cluster spreads the users' slots.
 */
export function tenantOf(accountId: string, tenants: number): string {
  if (tenants <= 1) return TENANT;
  let hash = 0;
  for (let i = 0; i < accountId.length; i++) hash = (Math.imul(hash, 31) + accountId.charCodeAt(i)) >>> 0;
  return `${TENANT}-${hash % tenants}`;
}

/** The user named by the request's header, in its tenant (see {@link tenantOf}). */
export function userResolver(tenants: number): ResolveUser {
  // One tenant (every part but the topologies): the hot path's resolver stays as lean as before.
  if (tenants <= 1)
    return (req: Request): UserRef | null => {
      const accountId = req.get(ACCOUNT_HEADER);
      return accountId ? { clientKey: TENANT, accountId } : null;
    };
  return (req: Request): UserRef | null => {
    const accountId = req.get(ACCOUNT_HEADER);
    return accountId ? { clientKey: tenantOf(accountId, tenants), accountId } : null;
  };
}

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

export function createAppServer(strategies: Strategy[], log: RequestLog, resolveUser: ResolveUser): Express {
  const attachConstantToken = (req: Request, _res: Response, next: NextFunction): void => {
    if (resolveUser(req)) req.jira = CONSTANT_JIRA;
    next();
  };
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
