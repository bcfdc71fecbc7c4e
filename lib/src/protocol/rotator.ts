// One rotation, done by the holder of a user's lock (DESIGN.md steps 5–7): re-read, take the
// fenced lease by CAS, make ONE token request, and settle the record by what the answer means.

import { randomBytes } from 'node:crypto';
import {
  ClientCredentialsRejectedError,
  NotConnectedError,
  ReauthorizationRequiredError,
  UpstreamUnavailableError,
} from '../errors';
import { fingerprint } from '../fingerprint';
import { logLeaseHeldElsewhere, publishNotice, who } from './log-context';
import type { Logger } from '../logger';
import type { OAuthClient, RefreshOutcome } from '../oauth/oauth-client';
import { type Assessment, assessRecord } from './record-assessment';
import { type OpenRecord, type RecordAccess, tokenOf } from './record-access';
import type { NoticeKind } from '../notice/notice';
import type { NoticeChannel } from '../notice/notice-channel';
import type { TokenObserver } from '../metrics/token-observer';
import type { RotationOutcome, TokenStats } from '../metrics/token-stats';
import type { AccessToken, InDoubtReason, TokenRecord, TokenSecrets, UserRef } from '../types';

export interface RotatorSettings {
  expiryMarginMs: number;
  leaseMs: number;
  leewayMs: number;
  inDoubtSafetyMs: number;
  requestTimeoutMs: number;
  tokenRequestAttempts: number;
  recoveryIntervalMs: number;
  refreshAheadMs: number;
  inDoubtRetryMs: number;
  /** A `keep_alive` rotation happens only while the chain has not rotated for this long. */
  keepAliveAfterMs: number;
}

export interface RotatorDeps {
  records: RecordAccess;
  /** Where the holder's outcome is published, to wake waiters and drop cached tokens. */
  notices: NoticeChannel;
  oauth: OAuthClient;
  logger: Logger;
  stats: TokenStats;
  /** Times each token endpoint call (metrics). */
  observer: TokenObserver;
  now: () => number;
  settings: RotatorSettings;
  /** This manager's id, stamped on its notices so it can ignore its own. */
  origin: string;
}

/** Work a request leaves to run in the background, through the same locked protocol. */
export type BackgroundWork = 'recover' | 'refresh_ahead' | 'keep_alive';

/**
 * How background work ended: it rotated the chain; it left it unchanged (nothing to do, or
 * another holder had the lock); or it failed (logged and counted, never thrown).
 */
export type BackgroundOutcome = 'rotated' | 'unchanged' | 'failed';

/** What the lock holder achieved. */
export type RotationResult =
  /**
   * A usable token; whether this call rotated to get it; and what, if anything, should still run
   * in the background.
   */
  | {
      kind: 'token';
      token: AccessToken & { lastRotatedAt: number };
      rotated: boolean;
      background?: BackgroundWork;
    }
  /** Someone else's lease is alive or won the CAS: wait for its notice and re-read. */
  | { kind: 'wait' }
  /** Background work only: there was nothing (left) to do. */
  | { kind: 'idle' };

export interface RotationIntent {
  /** An access token Jira answered 401 to: rotate only while the record still holds it. */
  rejected?: string;
  /**
   * Background work: `recover` only recovers an in-doubt chain and never rotates a healthy one
   * (the sweeper); `refresh_ahead` rotates a token inside the refresh-ahead window, or nothing if
   * another process did already; `keep_alive` rotates an active chain that is still idle for
   * longer than `keepAliveAfterMs`, and nothing else.
   */
  background?: BackgroundWork;
}

/** The background work an assessment calls for, if any. */
export function backgroundOf(assessment: Assessment): BackgroundWork | undefined {
  if (assessment.action !== 'use') return undefined;
  if (assessment.recover) return 'recover';
  return assessment.refreshAhead ? 'refresh_ahead' : undefined;
}

type InDoubt = NonNullable<TokenRecord['inDoubt']>;

/** The 503 for a request that meets an in-doubt chain whose last attempt failed moments ago. */
export function backoffError(retryAfterMs: number): UpstreamUnavailableError {
  return new UpstreamUnavailableError(
    'The Jira token refresh did not complete; it is being recovered',
    Math.max(1, Math.ceil(retryAfterMs / 1000)),
  );
}

export class Rotator {
  constructor(private readonly deps: RotatorDeps) {}

  /**
   * Runs while holding the user's lock. The double-checked read happens here, unless the caller
   * passes the record it read just before taking the lock: a read under the lock would cost the
   * holder one more Redis round trip before its token request, and it adds no safety, because the
   * lease is taken by compare-and-set on that record's version. If someone wrote in between, the
   * CAS fails and the caller waits for the notice of that write and reads again.
   */
  async runUnderLock(
    user: UserRef,
    intent: RotationIntent,
    signal: AbortSignal,
    readJustBefore?: OpenRecord,
  ): Promise<RotationResult> {
    const { records, now, settings } = this.deps;
    const { background } = intent;
    const read = readJustBefore ?? (await records.read(user));
    if (!read) {
      if (background) return { kind: 'idle' };
      throw new NotConnectedError();
    }
    const { record, secrets } = read;
    if (background === 'keep_alive') {
      // Re-checked under the lock: a request, a refresh-ahead or another sweeper that rotated the
      // chain since it was listed has kept it alive already, so a burst and a sweep rotate once.
      const idle = record.lastRotatedAt < now() - settings.keepAliveAfterMs;
      if (record.state !== 'active' || !idle || !secrets) return { kind: 'idle' };
      return this.rotate(user, record, secrets, signal);
    }
    const assessment = assessRecord({
      record,
      secrets,
      rejected: intent.rejected,
      now: now(),
      expiryMarginMs: settings.expiryMarginMs,
      refreshAheadMs: settings.refreshAheadMs,
      inDoubtRetryMs: settings.inDoubtRetryMs,
    });
    switch (assessment.action) {
      case 'reauthorize':
        if (background) return { kind: 'idle' };
        throw new ReauthorizationRequiredError();
      case 'wait':
        // Our lock lapsed or theirs did: the fenced lease, not the lock, decides who may call.
        logLeaseHeldElsewhere(this.deps.logger, user);
        return { kind: 'wait' };
      case 'use': {
        const wanted = backgroundOf(assessment);
        if (background && wanted === background) break;
        // Nothing (left) to do, e.g. another process rotated ahead already: hand back the token
        // so the caller's cache learns of it.
        return {
          kind: 'token',
          token: tokenOf(record, secrets!.accessToken),
          rotated: false,
          background: background ? undefined : wanted,
        };
      }
      case 'refresh':
        // The sweeper never rotates a healthy chain; a refresh-ahead that came late still may.
        if (background === 'recover') return { kind: 'idle' };
        break;
      case 'backoff':
        // Pacing applies to requests; the sweeper's own cadence paces recovery.
        if (background === 'recover') break;
        if (background) return { kind: 'idle' };
        throw backoffError(assessment.retryAfterMs);
      case 'recover':
        break;
    }
    return this.rotate(user, record, secrets!, signal);
  }

  private async rotate(
    user: UserRef,
    record: TokenRecord,
    secrets: TokenSecrets,
    signal: AbortSignal,
  ): Promise<RotationResult> {
    const { records, now, settings, logger } = this.deps;
    const start = now();
    const baseline = this.baseline(record);
    // Step 6: the fenced lease. Only one holder in the whole cluster can win this CAS for this
    // (generation, version), so at most one token request is ever in flight (invariant 1).
    const rotating: TokenRecord = {
      ...record,
      version: record.version + 1,
      state: 'rotating',
      lease: {
        fence: randomBytes(9).toString('base64url'),
        startedAt: start,
        until: start + settings.leaseMs,
      },
      inDoubt: baseline.inDoubt,
    };
    if (!(await records.write(user, record, rotating))) return { kind: 'wait' };
    if (record.state === 'rotating') this.noteInDoubt(user, 'holder_died');
    logger.debug(
      { event: 'rotation_started', ...who(user), refreshToken: fingerprint(secrets.refreshToken) },
      'Rotating',
    );

    const outcome = await this.request(secrets.refreshToken, rotating.lease!.until, signal);
    return this.settle(user, rotating, secrets, baseline, outcome);
  }

  /** Step 7: ONE token request; a second only if the first left the chain in doubt and the lease allows. */
  private async request(
    refreshToken: string,
    leaseUntil: number,
    signal: AbortSignal,
  ): Promise<RefreshOutcome> {
    const { oauth, now, settings, observer } = this.deps;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const outcome = await oauth.refresh(refreshToken, signal);
      observer.tokenEndpointCalled((performance.now() - started) / 1000, outcome.kind);
      const lastChance =
        outcome.kind !== 'in_doubt' ||
        attempt >= settings.tokenRequestAttempts ||
        signal.aborted ||
        now() + settings.requestTimeoutMs >= leaseUntil;
      if (lastChance) return outcome;
    }
  }

  private async settle(
    user: UserRef,
    rotating: TokenRecord,
    secrets: TokenSecrets,
    baseline: Pick<TokenRecord, 'state' | 'inDoubt'>,
    outcome: RefreshOutcome,
  ): Promise<RotationResult> {
    const { records, now, logger, stats, settings } = this.deps;
    const next = (fields: Partial<TokenRecord>): TokenRecord => ({
      ...rotating,
      version: rotating.version + 1,
      lease: undefined,
      ...fields,
    });
    const retryAfter = Math.max(1, Math.ceil(settings.recoveryIntervalMs / 1000));

    switch (outcome.kind) {
      case 'ok': {
        const issued = now();
        const { accessToken, refreshToken: rotated, expiresInSeconds } = outcome.tokens;
        // Invariant 3: a refresh token is never replaced by nothing. Without a new one the old one
        // stays, and the chain is in doubt until a retry inside the leeway brings a new pair.
        const inDoubt = rotated ? undefined : this.inDoubtFor(baseline, rotating, 'missing_refresh_token');
        const updated = next({
          state: rotated ? 'active' : 'in_doubt',
          inDoubt,
          expiresAt: issued + expiresInSeconds * 1000,
          lastRotatedAt: issued,
          ciphertext: records.seal(user, rotating.generation, {
            accessToken,
            refreshToken: rotated ?? secrets.refreshToken,
          }),
        });
        if (!(await records.write(user, rotating, updated))) return this.lostCas(user);
        stats.rotations += 1;
        this.ended(!rotated ? 'in_doubt' : baseline.inDoubt ? 'recovered' : 'rotated');
        if (!rotated) this.noteInDoubt(user, 'missing_refresh_token');
        else if (baseline.inDoubt) {
          logger.info(
            { event: 'in_doubt_recovered', ...who(user), reason: baseline.inDoubt.reason },
            'Recovered a Jira token chain that was in doubt',
          );
        }
        logger.debug({ event: 'rotated', ...who(user), accessToken: fingerprint(accessToken) }, 'Rotated');
        await this.publish(user, 'rotated');
        return {
          kind: 'token',
          token: tokenOf(updated, accessToken),
          rotated: true,
          background: rotated ? undefined : 'recover',
        };
      }

      case 'invalid_grant': {
        // Invariant 4: never a verdict before a re-read. A newer version means a sibling or a new
        // consent won; its tokens are the ones to use.
        const current = await records.get(user);
        if (!current) throw new NotConnectedError();
        if (current.generation !== rotating.generation || current.version !== rotating.version) {
          this.ended('sibling_adopted');
          logger.info(
            { event: 'sibling_adopted', ...who(user) },
            'invalid_grant after a newer write: adopting it',
          );
          return { kind: 'wait' };
        }
        const dead = next({ state: 'reauthorization_required', inDoubt: undefined });
        if (!(await records.write(user, rotating, dead))) return this.lostCas(user);
        this.ended('reauthorization_required');
        logger.warn(
          {
            event: 'reauthorization_required',
            ...who(user),
            refreshToken: fingerprint(secrets.refreshToken),
            wasInDoubt: baseline.inDoubt?.reason,
          },
          'Atlassian rejected the refresh token (invalid_grant): the user must reconnect Jira',
        );
        await this.publish(user, 'invalidated');
        throw new ReauthorizationRequiredError();
      }

      case 'invalid_client': {
        // Invariant 4: our credentials are wrong, not the user's chain. Put it back untouched.
        if (!(await records.write(user, rotating, next(this.attempted(baseline))))) return this.lostCas(user);
        this.ended('client_rejected');
        logger.error(
          { event: 'client_credentials_rejected', alarm: 'configuration' },
          'Atlassian rejected the app client credentials (invalid_client): check clientId and clientSecret',
        );
        await this.publish(user, 'rotated');
        throw new ClientCredentialsRejectedError(retryAfter);
      }

      case 'not_rotated': {
        if (!(await records.write(user, rotating, next(this.attempted(baseline))))) return this.lostCas(user);
        this.ended('not_rotated');
        logger.warn(
          { event: 'token_endpoint_refused', ...who(user), status: outcome.status, error: outcome.error },
          'The token endpoint refused without rotating',
        );
        await this.publish(user, 'rotated');
        throw new UpstreamUnavailableError(
          'Atlassian could not refresh the Jira token; try again shortly',
          retryAfter,
        );
      }

      case 'in_doubt': {
        const inDoubt = this.inDoubtFor(baseline, rotating, outcome.reason);
        if (!(await records.write(user, rotating, next({ state: 'in_doubt', inDoubt }))))
          return this.lostCas(user);
        this.ended('in_doubt');
        if (!baseline.inDoubt) this.noteInDoubt(user, outcome.reason, outcome.status);
        else if (now() > inDoubt.deadline) {
          // Once, by the attempt that crossed the deadline: later attempts (every sweeper of every
          // process) repeat it at debug only.
          const previous = baseline.inDoubt.lastAttemptAt ?? baseline.inDoubt.since;
          logger[previous <= inDoubt.deadline ? 'warn' : 'debug'](
            { event: 'in_doubt_past_deadline', ...who(user), reason: outcome.reason },
            'Recovery is still failing after the in-doubt deadline',
          );
        }
        await this.publish(user, 'rotated');
        throw new UpstreamUnavailableError(
          'The Jira token refresh did not complete; it is being recovered',
          retryAfter,
        );
      }
    }
  }

  /**
   * What the record was before the lease, to restore when the server certainly did not rotate.
   * A record still `rotating` after its lease ran out lost its holder mid-call: that is in doubt.
   */
  private baseline(record: TokenRecord): Pick<TokenRecord, 'state' | 'inDoubt'> {
    if (record.state === 'rotating') {
      const startedAt = record.lease?.startedAt ?? record.lastRotatedAt;
      return { state: 'in_doubt', inDoubt: record.inDoubt ?? this.newInDoubt(startedAt, 'holder_died') };
    }
    if (record.state === 'in_doubt') return { state: 'in_doubt', inDoubt: record.inDoubt };
    return { state: 'active', inDoubt: undefined };
  }

  /** Keeps the first deadline: the leeway runs from the first request that may have rotated. */
  private inDoubtFor(
    baseline: Pick<TokenRecord, 'inDoubt'>,
    rotating: TokenRecord,
    reason: InDoubtReason,
  ): InDoubt {
    if (baseline.inDoubt) return { ...baseline.inDoubt, reason, lastAttemptAt: this.deps.now() };
    return { ...this.newInDoubt(rotating.lease!.startedAt, reason), lastAttemptAt: this.deps.now() };
  }

  /** The baseline, noting that a token request was just made for it if it is in doubt. */
  private attempted(
    baseline: Pick<TokenRecord, 'state' | 'inDoubt'>,
  ): Pick<TokenRecord, 'state' | 'inDoubt'> {
    if (!baseline.inDoubt) return baseline;
    return { ...baseline, inDoubt: { ...baseline.inDoubt, lastAttemptAt: this.deps.now() } };
  }

  private newInDoubt(leaseStart: number, reason: InDoubtReason): InDoubt {
    const { settings } = this.deps;
    return { since: leaseStart, deadline: leaseStart + settings.leewayMs - settings.inDoubtSafetyMs, reason };
  }

  /** Counts and logs a chain entering doubt, once per case (only the lease holder gets here). */
  private noteInDoubt(user: UserRef, reason: InDoubtReason, status?: number): void {
    this.deps.stats.inDoubt[reason] += 1;
    this.deps.logger.warn(
      { event: 'in_doubt', ...who(user), reason, status },
      'A Jira token rotation is in doubt; recovering it',
    );
  }

  /** Counts how a rotation attempt ended: one outcome per token request settled. */
  private ended(outcome: RotationOutcome): void {
    this.deps.stats.rotationOutcomes[outcome] += 1;
  }

  private lostCas(user: UserRef): RotationResult {
    this.ended('lost_cas');
    this.deps.logger.warn({ event: 'lost_cas', ...who(user) }, 'A newer write won; re-reading');
    return { kind: 'wait' };
  }

  private publish(user: UserRef, kind: NoticeKind): Promise<void> {
    return publishNotice(this.deps, user, kind);
  }
}
