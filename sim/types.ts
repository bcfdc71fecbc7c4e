// The simulator's public types: options, fixtures, counters, chaos knobs and the handle tests hold.

import type { Express } from 'express';
import type { ApiAnswer } from './api-answers';

/** An Atlassian account that can consent in the simulator. */
export interface SimAccount {
  accountId: string;
  name: string;
  email: string;
  /** The cloudIds of the sites this account can reach. */
  siteIds: string[];
}

/** A Jira site (an "accessible resource"). */
export interface SimSite {
  /** The cloudId. */
  id: string;
  name: string;
  /** The site's origin, e.g. `https://acme.atlassian.net`. */
  url: string;
  scopes: string[];
  avatarUrl: string;
}

/** How to build a simulator. Every field is optional. */
export interface SimulatorOptions {
  /** Default `sim-client-id`. */
  clientId?: string;
  /** Default `sim-client-secret`. */
  clientSecret?: string;
  /** Lifetime of access tokens on the sim clock. Default 3600. */
  accessTokenTtlSeconds?: number;
  /** Reuse interval of the immediately previous refresh token. Default 600 000 (10 minutes). */
  leewayMs?: number;
  /** A family dies after this long without a refresh. Default 90 days. */
  inactivityMs?: number;
  /** A family dies this long after its consent, whatever happens. Default 365 days. */
  absoluteLifetimeMs?: number;
  /** Where the sim clock starts, epoch ms. Default `Date.now()` at creation. */
  startTime?: number;
  /** Default: `sim-user-1` (site 1) and `sim-user-2` (sites 1 and 2). */
  accounts?: SimAccount[];
  /** Default: `sandbox` and `other` (see `DEFAULT_SITES`). */
  sites?: SimSite[];
  /** Generated Jira issues per site. Default 25. */
  issuesPerSite?: number;
  /** Seed of the chaos PRNG. Default 1. */
  seed?: number;
}

/** Chaos knobs of the token endpoint. All default to 0. */
export interface ChaosSettings {
  /** Added to every token endpoint answer (real time). */
  latencyMs: number;
  /** A uniformly random extra delay in `[0, jitterMs)` (real time, seeded). */
  jitterMs: number;
  /** Answer 500 without committing anything. */
  serverErrorRate: number;
  /** Commit the rotation, then never answer. */
  timeoutRate: number;
  /** Commit the rotation, then destroy the socket. */
  dropAfterCommitRate: number;
  /** Commit the rotation, then answer 200 without `refresh_token`. */
  missingRefreshTokenRate: number;
}

/** A forced outcome for one `refresh_token` grant. */
export type ScriptedOutcome =
  | 'ok'
  /** No commit, answers 500 (the server finished with the request). */
  | 'server_error'
  /** Commits, then answers 502 (a gateway whose upstream failed). */
  | 'server_error_after_commit'
  /** No commit, answers 504 (a gateway that stopped waiting for its upstream). */
  | 'gateway_timeout'
  /** Commits, then answers 504. */
  | 'gateway_timeout_after_commit'
  /** No commit, never answers. */
  | 'hang'
  | 'hang_after_commit'
  | 'drop_after_commit'
  | 'missing_refresh_token';

/**
 * A refresh held `delayMs` in front of the server (a queue, a slow gateway) and only then
 * committed, whatever became of its client: the answer is sent only if the client still waits.
 * `clock` says which clock the delay runs on: `real` (a timer, the default) or `sim` (committed
 * when the sim clock is moved `delayMs` or more past the request's arrival, so a test decides
 * exactly when, without waiting).
 */
export interface LateCommit {
  outcome: 'commit_late';
  delayMs: number;
  clock?: 'real' | 'sim';
}

/** One scripted step: a plain outcome, or a late commit with its delay. */
export type ScriptedStep = ScriptedOutcome | LateCommit;

/** Counters, so tests and benchmarks can assert "exactly one rotation" and "zero revocations". */
export interface SimStats {
  /** Every request that reached `POST /oauth/token`. */
  tokenRequests: number;
  /** Refreshes with the current refresh token. */
  rotations: number;
  /** Refreshes with the previous refresh token inside its leeway (not rotations). */
  leewayReuses: number;
  /** Families revoked by reuse detection. */
  revocations: number;
  /** `invalid_grant` answers actually sent. */
  invalidGrant: number;
  /** `invalid_client` answers. */
  invalidClient: number;
  /** Successful `authorization_code` grants. */
  codeExchanges: number;
  /** Every request to `/me`, accessible-resources and the Jira gateway. */
  apiRequests: number;
  /** API requests answered 401. */
  apiUnauthorized: number;
  /** Chaos outcomes applied (scripted or drawn); `lateCommits` counts scripted late commits held. */
  chaos: {
    serverErrors: number;
    timeouts: number;
    drops: number;
    missingRefreshTokens: number;
    lateCommits: number;
  };
  /** The personal data reporting API: reports answered (200 or 204), accounts in them, `closed` and `updated` answers, 429s, 400s. */
  personalData: {
    reports: number;
    accountsReported: number;
    closedAnswers: number;
    updatedAnswers: number;
    throttled: number;
    rejected: number;
  };
  /** Current state, not counters: `resetStats()` leaves them alone. Expired families are in neither. */
  families: { active: number; revoked: number };
}

/** The body of a successful token answer. */
export interface TokenResponseBody {
  access_token: string;
  /** Only when the grant has `offline_access`, and not under `missing_refresh_token` chaos. */
  refresh_token?: string;
  expires_in: number;
  scope: string;
  token_type: 'Bearer';
}

/** Where a refresh token stands in its family. */
export type RefreshTokenStatus = 'current' | 'previous' | 'retired' | 'revoked' | 'unknown';

/** The simulator's clock: manual only, it never moves with real time. */
export interface SimClock {
  now(): number;
  /** Moves forward; `ms` must be finite and not negative. */
  advance(ms: number): void;
  /** Jumps anywhere, backwards included. */
  set(epochMs: number): void;
}

/** The RSA key pair the simulated install-key CDN serves. */
export interface InstallKeys {
  kid: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

/** A running simulator. */
export interface Simulator {
  /** Mount it anywhere: every URL it builds uses `req.baseUrl`. */
  app: Express;
  clock: SimClock;
  stats(): SimStats;
  resetStats(): void;
  /** Merges into the current settings; throws `RangeError` on invalid values. */
  setChaos(partial: Partial<ChaosSettings>): void;
  chaos(): ChaosSettings;
  /**
   * Forced outcomes for the next refresh_token grants, consumed in order (deterministic tests).
   * A step may be a {@link LateCommit}. Throws `RangeError` on an invalid step.
   */
  scriptOutcomes(outcomes: ScriptedStep[]): void;
  /**
   * Forced answers for the next Jira API requests (`/ex/jira/…`), consumed in order before any
   * bearer check: `{status: 429|500|502|503|504, retryAfterSeconds?}` or `{drop: true}`.
   * Throws `RangeError` on an invalid answer.
   */
  scriptApiAnswers(answers: ApiAnswer[]): void;
  /** A consent without the browser: creates a new token family for the account and returns the token response body. */
  consent(accountId: string, scope?: string): TokenResponseBody;
  /** The family state of a refresh token (for tests). */
  refreshTokenStatus(refreshToken: string): RefreshTokenStatus;
  /** Closes an Atlassian account: the personal data reporting API answers `closed` for it from now on. */
  closeAccount(accountId: string): void;
  /** The next `count` personal data reports are answered 429 with `Retry-After: retryAfterSeconds`. */
  throttleReports(count: number, retryAfterSeconds: number): void;
  /** Generated on first use: a 2048-bit key pair costs tens of milliseconds. */
  readonly installKeys: InstallKeys;
  /**
   * Destroys held (hanging) sockets and cancels delayed answers and late commits not yet made, so
   * test runners exit cleanly.
   */
  close(): void;
}
