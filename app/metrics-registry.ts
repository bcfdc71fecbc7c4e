// The app's Prometheus registry: the token manager's metrics plus Node's process metrics (CPU,
// memory, event-loop lag, handles), which an operator wants next to them on the same scrape.

import { Registry, collectDefaultMetrics } from 'prom-client';

/** A new registry with prom-client's default process metrics (collected at scrape time). */
export function createAppRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
