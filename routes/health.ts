// Operations: /healthz answers while the process runs; /readyz also asks Redis, which every token,
// state and installation depends on when it is configured; /metrics gives the token manager's
// counters of this process in the Prometheus text format (no user in any label: invariant 6).

import express, { type Router } from 'express';
import type { RouteDeps } from './index';

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
  router.get('/metrics', deps.headers.noStore, (_req, res) => {
    res.type('text/plain; version=0.0.4').send(prometheusText(deps.tokens.stats()));
  });
  return router;
}

/**
 * `jtr_<counter>_total` per numeric counter; a counter kept per reason (in-doubt reasons)
 * becomes one series per reason.
 */
function prometheusText(stats: object): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(stats)) {
    const metric = `jtr_${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`;
    const series =
      typeof value === 'number'
        ? [`${metric} ${value}`]
        : Object.entries(value as Record<string, number>).map(
            ([reason, n]) => `${metric}{reason="${reason}"} ${n}`,
          );
    lines.push(`# TYPE ${metric} counter`, ...series);
  }
  return `${lines.join('\n')}\n`;
}
