// Access tokens: opaque here, but they behave like Atlassian's JWTs, valid until expiry whatever happens to their family.

import { randomToken } from './random-token';

/** What an access token lets its bearer do. */
export interface AccessGrant {
  accountId: string;
  /** Absent when the grant had no `offline_access`, so no family exists. */
  familyId: string | undefined;
  scopes: ReadonlySet<string>;
  expiresAt: number;
}

/**
 * Issued access tokens. Atlassian's access tokens are self-contained JWTs checked by signature and
 * `exp`, so revoking a family cannot recall them: they stay valid until they expire. The simulator
 * does the same, so the app cannot rely on a revocation it would never see in production.
 */
export class AccessTokenStore {
  private readonly tokens = new Map<string, AccessGrant>();

  issue(grant: AccessGrant): string {
    const token = randomToken();
    this.tokens.set(token, grant);
    return token;
  }

  /** The grant of a token that exists and has not expired at `now`. */
  lookup(token: string, now: number): AccessGrant | undefined {
    const grant = this.tokens.get(token);
    if (grant === undefined) return undefined;
    if (now >= grant.expiresAt) {
      this.tokens.delete(token);
      return undefined;
    }
    return grant;
  }
}
