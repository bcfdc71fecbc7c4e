// What every strategy under comparison offers an app process: seeding, a middleware, counters.

import type { RequestHandler, Request } from 'express';
import type { TokenResponseBody } from '../../sim';
import type { UserRef } from 'jira-token-rotation';
import type { RedisAddress } from '../topology/redis-address';
import type { RotationMarks } from './rotation-timeline';

/** The strategies of part 1, its floor (`no-token`) and the polling variants of part 2. */
export const STRATEGY_NAMES = [
  'no-token',
  'naive',
  'single-flight',
  'this-project',
  'this-project-poll-100',
  'this-project-poll-1000',
] as const;

export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** Who a request is for. */
export type ResolveUser = (req: Request) => UserRef | null;

/** One way of getting a fresh Jira access token for each request. */
export interface Strategy {
  readonly name: StrategyName;
  /** Stores a consent's tokens the way this strategy keeps them. */
  seed(user: UserRef, tokens: TokenResponseBody): Promise<void>;
  /**
   * Express middleware: finds the user, gets a token, sets `req.jira` (this project) or
   * `res.locals.expiresAt` (vendor code) and calls `next()`, or answers the failure itself.
   */
  middleware(resolveUser: ResolveUser): RequestHandler;
  /** Resolves once connections are up (this project: the notice subscription). */
  ready(): Promise<void>;
  /** Resolves once background work (refresh-ahead, recovery) has finished. */
  idle(): Promise<void>;
  /** When rotations started and ended in this process since `since` (epoch ms); this project only. */
  rotationMarks?(since: number): RotationMarks;
  /** Process-local counters, for the report. */
  stats(): Record<string, unknown>;
  close(): Promise<void>;
}

/** What every strategy needs to reach the token endpoint and the shared Redis. */
export interface StrategyContext {
  clientId: string;
  clientSecret: string;
  tokenUrl: string;
  redisUrl: string;
  /** Where this project's manager finds Redis instead of `redisUrl`: a Cluster or a Sentinel group. */
  redis?: RedisAddress;
  /** This strategy's own key prefix (and notice channel). */
  keyPrefix: string;
  encryptionKey: string;
  /** The benchmark clock: real time plus what the orchestrator advanced. */
  now: () => number;
  /** Whether this project's in-doubt sweeper runs (off where Redis commands are counted). */
  sweeper: boolean;
}
