// Token families and Auth0's rotation rules with a reuse interval: the heart of the simulator.

import { randomUUID } from 'node:crypto';
import type { RefreshTokenStatus } from './types';

/** The timing rules every family obeys. */
export interface FamilyPolicy {
  /** How long the immediately previous refresh token stays usable after it was first rotated away. */
  leewayMs: number;
  inactivityMs: number;
  absoluteLifetimeMs: number;
}

/** One consent's chain of refresh tokens. */
export interface Family {
  readonly id: string;
  readonly accountId: string;
  /** The normalized, space-separated granted scope. */
  readonly scope: string;
  readonly consentAt: number;
  /** The consent or the last successful refresh: inactivity counts from here. */
  lastUsedAt: number;
  current: string;
  /** The token `current` replaced, and when it was first rotated away (a leeway reuse does not restart it). */
  previous: { token: string; rotatedAt: number } | undefined;
  revoked: boolean;
}

/** Why a refresh was refused; every reason answers `invalid_grant`. */
export type RefreshFailure = 'unknown' | 'revoked' | 'inactive' | 'expired' | 'reuse_detected';

/** The result of presenting a refresh token. Success has already been committed. */
export type RefreshResult =
  | { ok: true; kind: 'rotation' | 'leeway_reuse'; family: Family; refreshToken: string }
  | { ok: false; reason: RefreshFailure };

/**
 * Every family and every refresh token ever issued. Tokens are never forgotten, so reuse of any old
 * token is recognized and revokes its family, as Auth0 does.
 */
export class FamilyRegistry {
  private readonly families: Family[] = [];
  private readonly byToken = new Map<string, Family>();

  constructor(
    private readonly policy: FamilyPolicy,
    private readonly newToken: () => string,
  ) {}

  /** Starts a family at consent time, with its first refresh token as `current`. */
  create(accountId: string, scope: string, now: number): Family {
    const family: Family = {
      id: randomUUID(),
      accountId,
      scope,
      consentAt: now,
      lastUsedAt: now,
      current: this.newToken(),
      previous: undefined,
      revoked: false,
    };
    this.byToken.set(family.current, family);
    this.families.push(family);
    return family;
  }

  /**
   * Applies the rotation rules to one presented refresh token and commits the result:
   * - `current` rotates: a new current, and the old one becomes `previous` with its leeway starting now;
   * - `previous` inside its leeway gets a new token too, and the token it had produced is retired;
   *   the leeway is not restarted;
   * - any other token of the family (older, or `previous` after its leeway) revokes the family.
   * Expiry is checked before reuse, so an expired family is refused without being revoked.
   */
  refresh(token: string, now: number): RefreshResult {
    const family = this.byToken.get(token);
    if (family === undefined) return { ok: false, reason: 'unknown' };
    if (family.revoked) return { ok: false, reason: 'revoked' };
    if (now - family.consentAt > this.policy.absoluteLifetimeMs) return { ok: false, reason: 'expired' };
    if (now - family.lastUsedAt > this.policy.inactivityMs) return { ok: false, reason: 'inactive' };

    if (token === family.current) {
      family.previous = { token, rotatedAt: now };
      return this.advance(family, now, 'rotation');
    }
    const previous = family.previous;
    if (
      previous !== undefined &&
      token === previous.token &&
      now - previous.rotatedAt < this.policy.leewayMs
    ) {
      return this.advance(family, now, 'leeway_reuse');
    }
    family.revoked = true;
    return { ok: false, reason: 'reuse_detected' };
  }

  /** Where a token stands; a token of a revoked family is `revoked` whatever its position was. */
  status(token: string): RefreshTokenStatus {
    const family = this.byToken.get(token);
    if (family === undefined) return 'unknown';
    if (family.revoked) return 'revoked';
    if (token === family.current) return 'current';
    if (token === family.previous?.token) return 'previous';
    return 'retired';
  }

  /** Families usable at `now` (neither revoked nor expired), and revoked ones. */
  counts(now: number): { active: number; revoked: number } {
    let active = 0;
    let revoked = 0;
    for (const family of this.families) {
      if (family.revoked) revoked += 1;
      else if (!this.expired(family, now)) active += 1;
    }
    return { active, revoked };
  }

  private expired(family: Family, now: number): boolean {
    return (
      now - family.consentAt > this.policy.absoluteLifetimeMs ||
      now - family.lastUsedAt > this.policy.inactivityMs
    );
  }

  private advance(family: Family, now: number, kind: 'rotation' | 'leeway_reuse'): RefreshResult {
    family.current = this.newToken();
    this.byToken.set(family.current, family);
    family.lastUsedAt = now;
    return { ok: true, kind, family, refreshToken: family.current };
  }
}
