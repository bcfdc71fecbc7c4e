// Operations: /healthz answers while the process runs; /readyz also asks Redis, which every token,
// state and installation depends on when it is configured; /metrics gives the token manager's
// metrics of this process in the Prometheus text format, from the prom-client registry the app gave
// it (no user, tenant or token in any label: invariant 6).

import express, { type Router } from 'express';
import type { RouteDeps } from './types';

const PING_TIMEOUT_MS = 1_000;

/** GET /healthz, GET /readyz and GET /metrics. */
export function healthRoutes(deps: Pick<RouteDeps, 'redis' | 'headers' | 'tokens'>): Router {
  const router = express.Router();
  router.get('/healthz', deps.headers.noStore, (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', deps.headers.noStore, (_req, res) => {
    if (!deps.redis) return void res.json({ status: 'ready' });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), PING_TIMEOUT_MS);
    });
    Promise.race([deps.redis.ping(), timeout])
      .then(
        () => res.json({ status: 'ready' }),
        () => res.status(503).json({ status: 'unavailable', redis: 'unreachable' }),
      )
      .finally(() => clearTimeout(timer));
  });
  router.get('/metrics', deps.headers.noStore, (_req, res, next) => {
    const { registry } = deps.tokens;
    // A Buffer, so Express keeps the registry's content type as it is (exposition format version).
    registry
      .metrics()
      .then((text) => res.setHeader('content-type', registry.contentType).send(Buffer.from(text)), next);
  });
  return router;
}
