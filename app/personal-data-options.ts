// The personal data reporter's options and defaults, and what a cycle reports back.

import type { Logger, TokenManager } from 'jira-token-rotation';
import type { ReportSchedule } from './report-schedule';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Defaults of {@link PersonalDataReporterOptions}, in one place. */
export const PERSONAL_DATA_DEFAULTS = Object.freeze({
  /** Atlassian's recommended cycle. */
  cycleMs: 7 * DAY_MS,
  /** How often each process checks whether a cycle is due. */
  checkIntervalMs: 60 * 60 * 1000,
  /** Atlassian's limit per request. */
  batchSize: 90,
  /** Records read per store page. */
  pageSize: 500,
  /** How long one process holds the cycle; a longer cycle may overlap another (harmless, idempotent). */
  leaseMs: 60 * 60 * 1000,
  /** Attempts per batch when Atlassian answers 429. */
  maxAttempts: 5,
  /** A 429 without a usable Retry-After waits this long. */
  defaultRetryAfterMs: 60_000,
  /** A Retry-After longer than this fails the cycle (retried at the next check) instead of waiting. */
  maxRetryAfterMs: 10 * 60 * 1000,
  /** Timeout of one report request. */
  requestTimeoutMs: 20_000,
  /** Users whose access token is tried as the report's bearer before the batch fails. */
  maxBearerCandidates: 5,
});

/** Options of {@link PersonalDataReporter}. */
export interface PersonalDataReporterOptions {
  tokens: TokenManager;
  /** `https://api.atlassian.com/app/report-accounts/` (the sandbox: the simulator's). */
  reportUrl: string;
  schedule: ReportSchedule;
  logger: Logger;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** The clock of the cycle, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Waits out a 429's Retry-After. Injectable, so tests need not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Default 7 days. */
  cycleMs?: number;
  /** Default 1 hour. */
  checkIntervalMs?: number;
  /** Default 90, Atlassian's maximum. */
  batchSize?: number;
  /** Default 500. */
  pageSize?: number;
}

/** What one cycle did; counts only, never an accountId. */
export interface ReportCycleResult {
  /** Distinct accounts reported. */
  accounts: number;
  /** Requests answered 200 or 204. */
  requests: number;
  /** 429 answers waited out. */
  throttled: number;
  /** Accounts reported closed. */
  closed: number;
  /** Token records erased for them (an account may be connected in several tenants). */
  erased: number;
  /** Accounts reported `updated`: nothing to refresh, the app stores no profile data. */
  updated: number;
}

/** The outcome of {@link PersonalDataReporter.runIfDue}. */
export type ReportOutcome = ({ ran: true } & ReportCycleResult) | { ran: false; reason: 'not_due' | 'busy' };

/** A report request that failed for good in this cycle. */
export class ReportFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportFailedError';
  }
}
