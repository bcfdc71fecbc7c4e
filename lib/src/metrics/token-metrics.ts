// Prometheus metrics of one token manager (prom-client). Counters are read from TokenStats when
// the registry is scraped, so the request path pays nothing for them; the two histograms are
// observed when their event happens. No label ever names a user, tenant or token (invariant 6).

import { Counter, Histogram, type Registry } from 'prom-client';
import type { TokenObserver } from './token-observer';
import { ROTATION_OUTCOMES, type TokenStats } from './token-stats';

/** Token endpoint answers, as the OAuth client classifies them: the `outcome` label. */
const ENDPOINT_OUTCOMES = [
  'ok',
  'invalid_grant',
  'invalid_client',
  'not_rotated',
  'not_sent',
  'in_doubt',
] as const;

/** Lock waits end at `waitTimeoutMs` (default 30 s), so the buckets reach it. */
const LOCK_WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Token requests time out at `requestTimeoutMs` (default 10 s). */
const ENDPOINT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Jira statuses `req.jira.fetch` retries: the `status` label's values. */
const RETRIED_STATUSES = ['429', '503'];

/**
 * Registers the manager's metrics in `registry` and returns the observer that feeds its
 * histograms. Throws if `registry` already holds metrics of these names (one manager per registry).
 */
export function registerTokenMetrics(registry: Registry, stats: TokenStats): TokenObserver {
  const registers = [registry];
  new Counter({
    name: 'jira_token_rotations_total',
    help: 'Rotation attempts of this process (one token request settled), by outcome.',
    labelNames: ['outcome'],
    registers,
    collect() {
      for (const outcome of ROTATION_OUTCOMES) set(this, stats.rotationOutcomes[outcome], { outcome });
    },
  });
  new Counter({
    name: 'jira_token_cache_hits_total',
    help: 'Requests answered from the process cache, with no I/O.',
    registers,
    collect() {
      set(this, stats.cacheHits);
    },
  });
  new Counter({
    name: 'jira_token_reauthorization_required_total',
    help: 'Chains this process found dead (invalid_grant after a re-read): the user must reconnect.',
    registers,
    collect() {
      set(this, stats.reauthorizationRequired);
    },
  });
  new Counter({
    name: 'jira_token_store_losses_total',
    help: 'Times this process found that the Redis token store lost its records (restart without persistence, failover to an empty replica, flush, eviction).',
    registers,
    collect() {
      set(this, stats.storeLosses);
    },
  });
  new Counter({
    name: 'jira_token_settle_write_retries_total',
    help: 'Writes of a rotated token pair made again after the first failed (the pair was kept in memory meanwhile).',
    registers,
    collect() {
      set(this, stats.settleWriteRetries);
    },
  });
  new Counter({
    name: 'jira_api_retries_total',
    help: 'Jira calls through req.jira.fetch retried after a 429 or 503, by that status.',
    labelNames: ['status'],
    registers,
    collect() {
      const statuses = new Set([...RETRIED_STATUSES, ...Object.keys(stats.apiRetries)]);
      for (const status of statuses) set(this, stats.apiRetries[status] ?? 0, { status });
    },
  });
  const lockWait = new Histogram({
    name: 'jira_token_lock_wait_seconds',
    help: "Time a request waited for another holder's rotation (lock held or lease alive elsewhere).",
    buckets: LOCK_WAIT_BUCKETS,
    registers,
  });
  const endpoint = new Histogram({
    name: 'jira_token_endpoint_duration_seconds',
    help: 'Duration of each refresh request to the token endpoint, by how it was answered.',
    labelNames: ['outcome'],
    buckets: ENDPOINT_BUCKETS,
    registers,
  });
  // Every outcome is a series from the start, so rate() and absent() behave on a fresh process.
  for (const outcome of ENDPOINT_OUTCOMES) endpoint.zero({ outcome });
  return {
    lockWaited: (seconds) => lockWait.observe(seconds),
    tokenEndpointCalled: (seconds, outcome) => endpoint.observe({ outcome }, seconds),
  };
}

/** A counter collected from a running total: the total replaces the series' value. */
function set<L extends string>(
  counter: Counter<L>,
  total: number,
  labels?: Partial<Record<L, string>>,
): void {
  if (labels) {
    counter.remove(labels);
    counter.inc(labels, total);
  } else {
    counter.reset();
    counter.inc(total);
  }
}
