// Counters of what the manager did in this process, for tests, benchmarks and metrics.

import type { InDoubtReason } from '../types';

/**
 * How a rotation attempt by the lock holder ended, one per attempt: `rotated` (a new pair stored),
 * `recovered` (a chain that was in doubt got a new pair), `in_doubt` (the answer was lost or lacked
 * a refresh token), `reauthorization_required` (invalid_grant, confirmed by a re-read),
 * `sibling_adopted` (invalid_grant, but a newer write had won), `client_rejected` (invalid_client),
 * `not_rotated` (the endpoint refused without rotating), `lost_cas` (a newer write won the record).
 */
export const ROTATION_OUTCOMES = [
  'rotated',
  'recovered',
  'in_doubt',
  'reauthorization_required',
  'sibling_adopted',
  'client_rejected',
  'not_rotated',
  'lost_cas',
] as const;
/** One of {@link ROTATION_OUTCOMES}: the `outcome` label of `jira_token_rotations_total`. */
export type RotationOutcome = (typeof ROTATION_OUTCOMES)[number];

/** A snapshot of {@link TokenStats}. */
export interface TokenStatsSnapshot {
  cacheHits: number;
  storeReads: number;
  rotations: number;
  recoveries: number;
  inDoubt: Record<InDoubtReason, number>;
  reauthorizationRequired: number;
  clientCredentialsRejected: number;
  siblingAdopted: number;
  lostCas: number;
  upstreamNotRotated: number;
  refreshAheadStarted: number;
  backgroundFailures: number;
  /** Idle chains the keep-alive sweeper rotated. */
  keepAliveRotations: number;
  /** Keep-alive rotations that failed (also counted in `backgroundFailures`). */
  keepAliveFailures: number;
  /** Retries of Jira calls by the status that caused them (429, 503). */
  apiRetries: Record<string, number>;
  /** Rotation attempts by how they ended. */
  rotationOutcomes: Record<RotationOutcome, number>;
  /** Times this process found the Redis store had lost its records (its marker key vanished). */
  storeLosses: number;
  /** Settlement writes made again after the first one failed (a rotated pair kept in memory). */
  settleWriteRetries: number;
}

export class TokenStats {
  cacheHits = 0;
  storeReads = 0;
  rotations = 0;
  readonly inDoubt: Record<InDoubtReason, number> = {
    timeout: 0,
    network: 0,
    server_error: 0,
    bad_response: 0,
    missing_refresh_token: 0,
    holder_died: 0,
  };
  refreshAheadStarted = 0;
  backgroundFailures = 0;
  keepAliveRotations = 0;
  keepAliveFailures = 0;
  storeLosses = 0;
  settleWriteRetries = 0;
  readonly apiRetries: Record<string, number> = {};
  readonly rotationOutcomes = Object.fromEntries(ROTATION_OUTCOMES.map((o) => [o, 0])) as Record<
    RotationOutcome,
    number
  >;

  // These counters are rotation outcomes under their older names: read, never kept twice.
  get recoveries(): number {
    return this.rotationOutcomes.recovered;
  }
  get reauthorizationRequired(): number {
    return this.rotationOutcomes.reauthorization_required;
  }
  get clientCredentialsRejected(): number {
    return this.rotationOutcomes.client_rejected;
  }
  get siblingAdopted(): number {
    return this.rotationOutcomes.sibling_adopted;
  }
  get lostCas(): number {
    return this.rotationOutcomes.lost_cas;
  }
  get upstreamNotRotated(): number {
    return this.rotationOutcomes.not_rotated;
  }

  snapshot(): TokenStatsSnapshot {
    return {
      cacheHits: this.cacheHits,
      storeReads: this.storeReads,
      rotations: this.rotations,
      recoveries: this.recoveries,
      inDoubt: { ...this.inDoubt },
      reauthorizationRequired: this.reauthorizationRequired,
      clientCredentialsRejected: this.clientCredentialsRejected,
      siblingAdopted: this.siblingAdopted,
      lostCas: this.lostCas,
      upstreamNotRotated: this.upstreamNotRotated,
      refreshAheadStarted: this.refreshAheadStarted,
      backgroundFailures: this.backgroundFailures,
      keepAliveRotations: this.keepAliveRotations,
      keepAliveFailures: this.keepAliveFailures,
      apiRetries: { ...this.apiRetries },
      rotationOutcomes: { ...this.rotationOutcomes },
      storeLosses: this.storeLosses,
      settleWriteRetries: this.settleWriteRetries,
    };
  }
}
