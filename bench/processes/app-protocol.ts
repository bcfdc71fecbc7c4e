// What the orchestrator may ask of an app process.

import type { TokenResponseBody } from '../../sim';
import type { StrategyName } from '../strategies/types';
import type { RedisAddress } from '../topology/redis-address';

export interface AppInitArgs {
  index: number;
  tokenUrl: string;
  redisUrl: string;
  /** This project's Redis when it is not `redisUrl` (the topologies part); other strategies refuse it. */
  redis?: RedisAddress;
  /** The run's key prefix; each strategy appends its own part. */
  keyPrefix: string;
  encryptionKey: string;
  clientId: string;
  clientSecret: string;
  strategies: StrategyName[];
  /** Whether this project's in-doubt sweeper runs. */
  sweeper: boolean;
  /** Tenants the users are spread over (by a hash of the account id). Default 1. */
  tenants?: number;
  /** How far the benchmark clock is ahead of real time already. */
  offsetMs: number;
}

/** One process's view of one burst. Latencies in ms. */
export interface BurstSample {
  /** Request start to last body byte, measured by the load generator in this process. */
  clientMs: number[];
  /** Handler entry to `finish`, measured by the server. */
  serverMs: number[];
  /** Time spent in the token middleware (successful requests only). */
  tokenMs: number[];
  /** HTTP status → count. */
  statuses: Record<string, number>;
  /** From 'go' to the last response. */
  completionMs: number;
  /** Event-loop delay of this process during the burst (a saturated loop delays every Redis reply). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Epoch ms of the burst's phases in this process (null when they did not happen here). */
  marks: {
    goAt: number;
    firstEntryAt: number | null;
    firstTokenAt: number | null;
    lastTokenAt: number | null;
    lastFinishAt: number | null;
    /** Set in the process that rotated (this project only). */
    rotationStartedAt: number | null;
    rotatedAt: number | null;
  };
}

/** One process's view of a long run over many users. */
export interface LoadSample {
  requests: number;
  statuses: Record<string, number>;
  clientMs: number[];
  elapsedMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** CPU time of this process during the run (user + system). */
  cpuMs: number;
}

export interface AppStats {
  rss: number;
  heapUsed: number;
  strategies: Partial<Record<StrategyName, Record<string, unknown>>>;
}

export interface Grant {
  accountId: string;
  tokens: TokenResponseBody;
}

export type AppOps = {
  init(args: AppInitArgs): { port: number };
  advance(args: { ms: number }): void;
  seed(args: { strategy: StrategyName; grants: Grant[]; concurrency: number }): void;
  /** Opens `connections` keep-alive sockets and makes one token request, so the burst pays neither. */
  warm(args: { strategy: StrategyName; accountId: string; connections: number }): void;
  /** The 'go': `concurrency` requests at once for one user; answers after background work settles. */
  burst(args: { strategy: StrategyName; accountId: string; concurrency: number }): BurstSample;
  /** Requests for many users, at most `window` in flight. */
  load(args: { strategy: StrategyName; accountIds: string[]; window: number }): LoadSample;
  /** In-process cost of the strategy's middleware, µs per call, without HTTP (cache hits for this project). */
  middlewareCost(args: { strategy: StrategyName; accountId: string; iterations: number }): {
    perCallUs: number;
    /** The same loop around a middleware that only calls next(). */
    emptyUs: number;
  };
  /** CPU time this process has used so far (user + system), µs. */
  cpu(args: Record<string, never>): number;
  stats(args: Record<string, never>): AppStats;
  close(args: Record<string, never>): void;
};
