// The IPC messages between a failover test and its failover-child app processes.

import type { TokenStatsSnapshot, UserRef } from 'jira-token-rotation';

/** Where a child's Redis client connects: a Redis Cluster's nodes, or a Sentinel group. */
export type FailoverRedis =
  | { cluster: Array<{ host: string; port: number }> }
  | {
      sentinels: Array<{ host: string; port: number }>;
      name: string;
      /** `null`: no command timeout (ioredis's default); omitted: the fail-fast 2 s. */
      commandTimeoutMs?: number | null;
    };

/** What one child saw of one user over a whole load run. */
export interface UserTally {
  user: UserRef;
  ok: number;
  /** Failed calls by error code. */
  errors: Record<string, number>;
  /** Wall-clock time (this host's) the last failed call ended, if any failed. */
  lastErrorAt?: number;
  /** When the first successful call after the last failure ended (the user was served again). */
  servedAgainAt?: number;
}

/** Parent → child. */
export type FailoverCommand =
  /** Start calling getAccessToken for every user, `concurrency` calls at a time, until `stop`. */
  | { type: 'load'; concurrency: number }
  /**
   * From now on, answer `caught-up` once every user has had a successful call that started after
   * this command arrived (the parent sends it when it has seen the promotion).
   */
  | { type: 'mark' }
  /** Finish the calls in flight, answer `stopped`. */
  | { type: 'stop' };

/** Child → parent. */
export type FailoverMessage =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'caught-up' }
  | { type: 'stopped'; tallies: UserTally[]; stats: TokenStatsSnapshot; leaked: string[] };
