// What the orchestrator may ask of the simulator process.

import type { SimStats, TokenResponseBody } from '../../sim';

export interface SimStartArgs {
  /** Account ids to create (each reaches the default sandbox site). */
  accountIds: string[];
  /** The token endpoint's answer delay, real time (chaos `latencyMs`). */
  latencyMs: number;
}

export type SimOps = {
  start(args: SimStartArgs): { baseUrl: string; tokenUrl: string; accessTokenTtlMs: number };
  /** Browserless consents: one new token family per account, in order. */
  consent(args: { accountIds: string[] }): TokenResponseBody[];
  stats(args: Record<string, never>): SimStats;
  advance(args: { ms: number }): { now: number };
  rss(args: Record<string, never>): number;
  close(args: Record<string, never>): void;
};
