// The manager's options and every default, in one place; resolve-options.ts checks them, once, at creation.

import type { Registry } from 'prom-client';
import type { Logger } from '../logger';
import type { RefreshLock } from '../lock/refresh-lock';
import type { NoticeChannel } from '../notice/notice-channel';
import type { TokenStore } from '../store/token-store';
import type { TokenRequestEncoding } from '../oauth/oauth-client';
import type { RedisInput } from '../redis/redis-input';
import type { ReplicasToAck } from '../redis/replica-acks';

/** Options of {@link createTokenManager}. Defaults are in {@link DEFAULTS}. */
export interface TokenManagerOptions {
  /** The OAuth 2.0 (3LO) app's client id. Required. */
  clientId: string;
  /** The OAuth 2.0 (3LO) app's client secret. Required. */
  clientSecret: string;
  /** Token endpoint. Default `https://auth.atlassian.com/oauth/token`. */
  tokenUrl?: string;
  /** `json` (Atlassian's documented body, the default) or `form` (RFC 6749, client_secret_post). */
  tokenRequestEncoding?: TokenRequestEncoding;
  /** Base of api.atlassian.com, for `req.jira.fetch`. Default `https://api.atlassian.com`. */
  apiBaseUrl?: string;
  /**
   * Records in Redis, the lock in redlock, notices over pub/sub: an ioredis `Redis` or `Cluster`
   * (used as it is, never closed), or a `redis://` URL (one node), `{ cluster: nodes, options? }`
   * or `{ sentinels, name, ... }`, from which the manager builds a fail-fast client of its own.
   * Omitted: an in-process store and lock (one process only; a warning when NODE_ENV=production).
   */
  redis?: RedisInput;
  /** A custom store. Default `RedisTokenStore` with `redis`, else `MemoryTokenStore`. */
  store?: TokenStore;
  /** A custom lock. Default `RedlockRefreshLock` with `redis`, else `InProcessRefreshLock`. */
  lock?: RefreshLock;
  /**
   * A custom notice channel. Default `RedisNoticeChannel` with `redis`, else
   * `InProcessNoticeChannel`. It must reach as far as the lock: both distributed, or neither.
   */
  notices?: NoticeChannel;
  /**
   * Base64 of 32 random bytes, or several: the first encrypts, all decrypt (key rotation).
   * Required with a shared store; omitted with the in-process store, a random key per process.
   */
  encryptionKey?: string | string[];
  /** Refresh this long before the access token expires. Default 60 000; capped at a fifth of the token's lifetime. */
  expiryMarginMs?: number;
  /**
   * A request that finds the access token valid but this close to expiry gets it at once and
   * starts one background rotation, so active users never wait for one. Default 300 000
   * (5 minutes); capped at a fifth of the token's lifetime; 0 disables it.
   */
  refreshAheadMs?: number;
  /** Timeout of each Jira call made through `req.jira.fetch`. Default 20 000. */
  apiTimeoutMs?: number;
  /**
   * Retries of a Jira call answered 429 (or 503, for idempotent methods), after Retry-After or
   * 500 ms doubling, with 0–20 % jitter. Default 2; 0 disables them.
   */
  apiMaxRetries?: number;
  /** A Retry-After longer than this is not waited for: the 429/503 is returned. Default 5 000. */
  apiRetryMaxDelayMs?: number;
  /** Timeout of one token endpoint request. Default 10 000. */
  requestTimeoutMs?: number;
  /** Attempts per rotation for requests that cannot have reached the token endpoint (refused, DNS, TLS), within the lease. Default 2. */
  tokenRequestAttempts?: number;
  /**
   * How long a rotating holder owns the record (fenced lease). While its token request is in
   * flight the holder renews the lease every third of this, so a live holder keeps it and a dead
   * one loses it within this time. Default 6 000; at least 300.
   */
  leaseMs?: number;
  /**
   * Time to live of the redlock lock, extended while held: how long a dead holder's lock key can
   * linger. Default 6 000; at least 300.
   */
  lockTtlMs?: number;
  /**
   * How long a request waits for another process's rotation before a 503. Default 30 000; must
   * exceed requestTimeoutMs × tokenRequestAttempts + max(leaseMs, lockTtlMs) + noticeTimeoutMs
   * (a live holder's longest rotation, then a dead one's lease and lock running out, then one
   * re-read).
   */
  waitTimeoutMs?: number;
  /** A waiter re-reads the record at least this often, should a notice be lost. Default 1 000. */
  noticeTimeoutMs?: number;
  /** Atlassian's reuse interval for the previous refresh token. Default 600 000 (10 minutes). */
  leewayMs?: number;
  /** In-doubt deadline = lease start + leewayMs − this. Default 60 000 (so 9 minutes). */
  inDoubtSafetyMs?: number;
  /**
   * A token request that may have reached the server (a timeout, a reset after sending, a 5xx) is
   * sent again by no process until this long after the holder gave up on it, so that a late commit
   * lands before the retry. Default 60 000; leaseMs + this must be below leewayMs − inDoubtSafetyMs.
   */
  commitHorizonMs?: number;
  /**
   * No request retries an in-doubt chain (or, after its own failed attempt, any chain) sooner
   * than this after the last failed token request, so a failing endpoint is not hammered (the
   * sweeper keeps retrying at its own pace). With `rideThroughFailures` (the default), a request whose wait
   * budget covers the rest waits for the recovery; otherwise it gets a 503 with Retry-After at
   * once. Default 5 000; 0 retries on every request.
   */
  inDoubtRetryMs?: number;
  /**
   * A request whose chain is in doubt, or whose own token request failed in a way a retry may
   * mend soon, waits (within `waitTimeoutMs`) for the recovery by the sweeper, another request,
   * or itself once `inDoubtRetryMs` or the commit horizon has passed, instead of answering 503 at
   * once; it answers 503 only when its wait budget would run out first. A token endpoint that
   * stays down thus holds each request up to `waitTimeoutMs`; `false` answers 503 at once, with
   * Retry-After. Default true.
   */
  rideThroughFailures?: boolean;
  /**
   * How often each process's recovery sweeper looks for in-doubt records, and (with `redis`)
   * checks that the Redis store still holds its marker key, i.e. has not lost its records.
   * Default 5 000; 0 disables both.
   */
  recoveryIntervalMs?: number;
  /**
   * Keep-alive: Atlassian expires a refresh token unused for 90 days. A sweeper rotates every
   * active chain idle (not rotated) for longer than this many days, through the same locked
   * protocol as requests. Default 30; `0` or `false` disables keep-alive. Must be below 90.
   */
  keepAliveAfterDays?: number | false;
  /**
   * How often the keep-alive sweeper runs, plus up to 10 % random jitter; one process of the
   * cluster sweeps at a time. Default 3 600 000 (1 hour); 0 disables the timer
   * (`keepAlive()` still sweeps on demand).
   */
  keepAliveIntervalMs?: number;
  /** At most this many keep-alive rotations per second, per sweep. Default 2. */
  keepAliveRatePerSecond?: number;
  /** Idle records the keep-alive sweeper reads per page of the idle index. Default 100. */
  keepAliveBatchSize?: number;
  /** Atlassian's absolute lifetime of a token family, counted from consent. Default 365 (days). */
  familyLifetimeDays?: number;
  /**
   * `status()` reports `reconnectSoon` once the family has fewer than this many days left, so the
   * app can ask the user to reconnect before the chain dies. Default 14 (days).
   */
  reconnectNoticeDays?: number;
  /** Prefix of every Redis key. Default `jtr:`. */
  keyPrefix?: string;
  /**
   * Replicas that must acknowledge the lease write and the result write (Redis `WAIT`) before a
   * rotation goes on or counts as done; see DESIGN.md invariant 15. Default `'auto'`: 1 where the
   * Redis primary (or a Cluster master) has replicas, 0 on a lone node.
   */
  replicasToAck?: ReplicasToAck;
  /** How long each `WAIT` waits for the replicas. Default 500 (ms). */
  replicaAckTimeoutMs?: number;
  /** A pino-compatible logger. Default: silent. */
  logger?: Logger;
  /**
   * The prom-client `Registry` the manager registers its metrics in (`jira_token_*`,
   * `jira_api_retries_total`), e.g. an app's own or prom-client's global `register`. Default: a
   * new Registry of the manager's own, as `manager.registry`. One manager per registry.
   */
  registry?: Registry;
  /** Injectable `fetch`. Default: the global one. */
  fetch?: typeof fetch;
  /**
   * How often each process measures its clock's offset to the store's clock (Redis `TIME`), which
   * it adds to `now` for every deadline and expiry shared with other processes. Measured at
   * creation, then at this interval. Default 60 000; 0 disables the measuring (offset 0). A store
   * without `time()` (the in-process one) has no offset either.
   */
  clockSyncIntervalMs?: number;
  /** Log one `clock_skew` warning when the measured offset exceeds this. Default 2 000. */
  clockSkewWarningMs?: number;
  /**
   * Injectable clock, epoch milliseconds: this process's own clock, which the measured offset to
   * the store's clock corrects (see `clockSyncIntervalMs`). Default `Date.now`.
   */
  now?: () => number;
}

/** The defaults, frozen. */
export const DEFAULTS = Object.freeze({
  tokenUrl: 'https://auth.atlassian.com/oauth/token',
  tokenRequestEncoding: 'json' as TokenRequestEncoding,
  apiBaseUrl: 'https://api.atlassian.com',
  expiryMarginMs: 60_000,
  refreshAheadMs: 300_000,
  requestTimeoutMs: 10_000,
  apiTimeoutMs: 20_000,
  apiMaxRetries: 2,
  apiRetryMaxDelayMs: 5_000,
  tokenRequestAttempts: 2,
  leaseMs: 6_000,
  lockTtlMs: 6_000,
  waitTimeoutMs: 30_000,
  noticeTimeoutMs: 1_000,
  leewayMs: 600_000,
  inDoubtSafetyMs: 60_000,
  commitHorizonMs: 60_000,
  recoveryIntervalMs: 5_000,
  inDoubtRetryMs: 5_000,
  rideThroughFailures: true,
  keepAliveAfterDays: 30 as number | false,
  keepAliveIntervalMs: 3_600_000,
  keepAliveRatePerSecond: 2,
  keepAliveBatchSize: 100,
  familyLifetimeDays: 365,
  reconnectNoticeDays: 14,
  keyPrefix: 'jtr:',
  replicasToAck: 'auto' as ReplicasToAck,
  replicaAckTimeoutMs: 500,
  clockSyncIntervalMs: 60_000,
  clockSkewWarningMs: 2_000,
});

/** A day in milliseconds: the keep-alive and family options are in days. */
export const DAY_MS = 86_400_000;

/** Atlassian expires a refresh token unused for this many days; keep-alive must act sooner. */
export const INACTIVITY_EXPIRY_DAYS = 90;

/** Options after validation, with every default applied. */
export type ResolvedOptions = Required<
  Omit<
    TokenManagerOptions,
    'redis' | 'store' | 'lock' | 'notices' | 'encryptionKey' | 'logger' | 'registry' | 'fetch' | 'now'
  >
> &
  Pick<TokenManagerOptions, 'redis' | 'store' | 'lock' | 'notices' | 'encryptionKey' | 'registry'> & {
    logger: Logger;
    fetch: typeof fetch;
    now: () => number;
  };
