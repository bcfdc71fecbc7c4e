// The grants themselves: code exchange, refresh and consent, each committing state and counting it.

import type { AccessTokenStore } from './access-tokens';
import type { AuthCodeStore } from './auth-codes';
import type { ManualClock } from './clock';
import type { Family, FamilyRegistry } from './families';
import { OFFLINE_ACCESS, parseScopes } from './scopes';
import type { StatsCounters } from './stats';
import type { SimAccount, TokenResponseBody } from './types';

/** A grant's result before delivery: chaos may still change how (and whether) it is answered. */
export type GrantResult = { ok: true; body: TokenResponseBody } | { ok: false };

/** The parts an issuer works with. */
export interface IssuerParts {
  clock: ManualClock;
  families: FamilyRegistry;
  codes: AuthCodeStore;
  accessTokens: AccessTokenStore;
  stats: StatsCounters;
  accounts: readonly SimAccount[];
  accessTokenTtlSeconds: number;
}

/** The default scope of a browserless consent. */
export const DEFAULT_CONSENT_SCOPE = 'read:jira-work read:jira-user read:me offline_access';

/** Issues token pairs. Failures carry no reason: Atlassian says only "Unknown or invalid refresh token." */
export class TokenIssuer {
  constructor(private readonly parts: IssuerParts) {}

  /** A consent without the browser; a new family when the scope has `offline_access`. */
  consent(accountId: string, scope: string = DEFAULT_CONSENT_SCOPE): TokenResponseBody {
    if (!this.parts.accounts.some((a) => a.accountId === accountId)) {
      throw new RangeError(`Unknown account: ${accountId}`);
    }
    const scopes = parseScopes(scope);
    if (scopes.length === 0) throw new RangeError('The scope is empty');
    return this.start(accountId, scopes);
  }

  /** The `authorization_code` grant. */
  exchangeCode(code: string, clientId: string, redirectUri: string): GrantResult {
    const grant = this.parts.codes.redeem(code, clientId, redirectUri, this.parts.clock.now());
    if (grant === undefined) return { ok: false };
    this.parts.stats.counters.codeExchanges += 1;
    return { ok: true, body: this.start(grant.accountId, parseScopes(grant.scope)) };
  }

  /** The `refresh_token` grant: commits the rotation rules' verdict and counts it. */
  refresh(refreshToken: string): GrantResult {
    const result = this.parts.families.refresh(refreshToken, this.parts.clock.now());
    const counters = this.parts.stats.counters;
    if (!result.ok) {
      if (result.reason === 'reuse_detected') counters.revocations += 1;
      return { ok: false };
    }
    if (result.kind === 'rotation') counters.rotations += 1;
    else counters.leewayReuses += 1;
    return { ok: true, body: this.respond(result.family, result.refreshToken) };
  }

  private start(accountId: string, scopes: string[]): TokenResponseBody {
    const scope = scopes.join(' ');
    if (!scopes.includes(OFFLINE_ACCESS)) {
      return this.body(this.accessToken(accountId, undefined, scopes), undefined, scope);
    }
    const family = this.parts.families.create(accountId, scope, this.parts.clock.now());
    return this.respond(family, family.current);
  }

  private respond(family: Family, refreshToken: string): TokenResponseBody {
    const scopes = parseScopes(family.scope);
    return this.body(this.accessToken(family.accountId, family.id, scopes), refreshToken, family.scope);
  }

  private accessToken(accountId: string, familyId: string | undefined, scopes: string[]): string {
    const expiresAt = this.parts.clock.now() + this.parts.accessTokenTtlSeconds * 1000;
    return this.parts.accessTokens.issue({ accountId, familyId, scopes: new Set(scopes), expiresAt });
  }

  private body(accessToken: string, refreshToken: string | undefined, scope: string): TokenResponseBody {
    return {
      access_token: accessToken,
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
      expires_in: this.parts.accessTokenTtlSeconds,
      scope,
      token_type: 'Bearer',
    };
  }
}
