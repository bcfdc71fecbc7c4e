// Step 7's second half: the holder settles the record by what the token endpoint's answer means
// (DESIGN.md invariants 3 and 4), then tells every process.

import { ClientCredentialsRejectedError, NotConnectedError, ReauthorizationRequiredError } from '../errors';
import { fingerprint } from '../fingerprint';
import type { RefreshOutcome } from '../oauth/refresh-outcome';
import type { RotationOutcome } from '../metrics/token-stats';
import type { NoticeKind } from '../notice/notice';
import type { TokenRecord, TokenSecrets, UserRef } from '../types';
import type { Baseline, InDoubtBook } from './in-doubt-book';
import { publishNotice, who } from './log-context';
import type { PendingSettlements } from './pending-settlements';
import { tokenOf } from './record-access';
import { type RotationResult, RotationFailedError, inDoubtError, retryAfterSeconds } from './rotation-result';
import type { RotatorDeps } from './rotator-deps';

/** Settles a rotation whose lease this holder won; one settlement per token request answered. */
export class RotationSettler {
  constructor(
    private readonly deps: RotatorDeps,
    private readonly book: InDoubtBook,
    private readonly pending: PendingSettlements,
  ) {}

  /**
   * Writes what the token endpoint's answer means for the chain, by compare-and-set on the
   * lease's version, and publishes it.
   */
  async settle(
    user: UserRef,
    rotating: TokenRecord,
    secrets: TokenSecrets,
    baseline: Baseline,
    outcome: RefreshOutcome,
  ): Promise<RotationResult> {
    const { records, now, logger, stats, settings } = this.deps;
    const next = (fields: Partial<TokenRecord>): TokenRecord => ({
      ...rotating,
      version: rotating.version + 1,
      lease: undefined,
      ...fields,
    });
    const retryAfter = retryAfterSeconds(settings.recoveryIntervalMs);

    switch (outcome.kind) {
      case 'ok': {
        const issued = now();
        const { accessToken, refreshToken: rotated, expiresInSeconds } = outcome.tokens;
        // Invariant 3: a refresh token is never replaced by nothing. Without a new one the old one
        // stays, and the chain is in doubt until a retry inside the leeway brings a new pair.
        const inDoubt = rotated
          ? undefined
          : this.book.inDoubtFor(baseline, rotating, 'missing_refresh_token');
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
        // Counted, logged and published once the pair is stored: now, or when a retry lands.
        const stored = async (): Promise<void> => {
          stats.rotations += 1;
          this.ended(!rotated ? 'in_doubt' : baseline.inDoubt ? 'recovered' : 'rotated');
          if (!rotated) this.book.noteInDoubt(user, 'missing_refresh_token');
          else if (baseline.inDoubt) {
            logger.info(
              { event: 'in_doubt_recovered', ...who(user), reason: baseline.inDoubt.reason },
              'Recovered a Jira token chain that was in doubt',
            );
          }
          logger.debug({ event: 'rotated', ...who(user), accessToken: fingerprint(accessToken) }, 'Rotated');
          await this.publish(user, 'rotated');
        };
        const written = await records.tryWrite(user, rotating, updated);
        if (written.kind === 'lost') return this.lostCas(user);
        if (written.kind === 'written') await stored();
        else {
          // Invariant 13: the server rotated, so this pair is the only copy of the chain's current
          // tokens. Keep it, serve it from memory, and write it again by the same compare-and-set.
          const lost = (): void => void this.lostCas(user);
          this.pending.keep(
            { user, expected: rotating, updated, accessToken, landed: stored, lost },
            written,
          );
        }
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
        if (!(await records.write(user, rotating, next(this.book.attempted(baseline)))))
          return this.lostCas(user);
        this.ended('client_rejected');
        logger.error(
          { event: 'client_credentials_rejected', alarm: 'configuration' },
          'Atlassian rejected the app client credentials (invalid_client): check clientId and clientSecret',
        );
        await this.publish(user, 'rotated');
        throw new ClientCredentialsRejectedError(retryAfter);
      }

      case 'not_sent': // every attempt failed before reaching the server: nothing rotated
      case 'not_rotated': {
        const failedAt = now();
        if (!(await records.write(user, rotating, next(this.book.attempted(baseline)))))
          return this.lostCas(user);
        this.ended('not_rotated');
        logger.warn(
          { event: 'token_endpoint_refused', ...who(user), status: outcome.status, error: outcome.error },
          'The token endpoint refused without rotating',
        );
        await this.publish(user, 'rotated');
        throw new RotationFailedError(
          'Atlassian could not refresh the Jira token; try again shortly',
          settings.recoveryIntervalMs,
          failedAt,
        );
      }

      case 'in_doubt': {
        const inDoubt = this.book.inDoubtFor(baseline, rotating, outcome.reason, outcome.status);
        if (!(await records.write(user, rotating, next({ state: 'in_doubt', inDoubt }))))
          return this.lostCas(user);
        this.ended('in_doubt');
        if (!baseline.inDoubt) this.book.noteInDoubt(user, outcome.reason, outcome.status);
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
        // Before the commit horizon nobody retries, so that is when to come back.
        throw inDoubtError(
          inDoubt.retryNotBefore ? inDoubt.retryNotBefore - now() : settings.recoveryIntervalMs,
        );
      }
    }
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
