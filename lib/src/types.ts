// Shared value types of the token core: who a token belongs to, what Atlassian returns, what is stored.

/** A Connect user: the tenant (`clientKey` of the installation) and the Atlassian account. */
export interface UserRef {
  clientKey: string;
  accountId: string;
}

/** The Jira site a user's tokens were granted for (one entry of accessible-resources). */
export interface JiraSite {
  /** The cloudId, used in `https://api.atlassian.com/ex/jira/{cloudId}`. */
  cloudId: string;
  /** The site's origin, e.g. `https://example.atlassian.net`. */
  url: string;
}

/**
 * A successful token endpoint response (RFC 6749 §5.1), as Atlassian returns it.
 * `refresh_token` is optional because the field sometimes lacks it.
 */
export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
  scope?: string;
  token_type?: string;
}

/** What a caller gets from {@link TokenManager.getAccessToken}. */
export interface AccessToken {
  accessToken: string;
  /** Epoch milliseconds at which Atlassian stops accepting the access token. */
  expiresAt: number;
  cloudId?: string;
}

/** The life-cycle states of a stored token record (DESIGN.md, "The token record"). */
export type TokenState = 'active' | 'rotating' | 'in_doubt' | 'reauthorization_required';

/** Why a rotation's outcome is unknown. */
export type InDoubtReason =
  'timeout' | 'network' | 'server_error' | 'bad_response' | 'missing_refresh_token' | 'holder_died';

/** The identity of one version of a record; every write compares it (invariant 2). */
export interface RecordVersion {
  /** Random, new at each consent. */
  generation: string;
  /** Bumped by every write. */
  version: number;
}

/**
 * One user's stored token record. Metadata is in clear so the store can compare and index it;
 * the tokens themselves are in `ciphertext`, encrypted by the manager (never by the store).
 */
export interface TokenRecord extends RecordVersion {
  state: TokenState;
  /** Set while `rotating`: the fence of the holder and when its lease ends (epoch ms). */
  lease?: { fence: string; until: number; startedAt: number };
  /** Set while `in_doubt`: since when, the deadline to recover by, and why. */
  inDoubt?: {
    since: number;
    deadline: number;
    reason: InDoubtReason;
    /** When the last token request for this chain was made, epoch ms (paces retries from requests). */
    lastAttemptAt?: number;
    /**
     * The commit horizon, epoch ms: the last request may still reach the server and commit until
     * then, so no process sends this refresh token again before it (DESIGN.md step 7).
     */
    retryNotBefore?: number;
  };
  /** Access token expiry, epoch ms. */
  expiresAt: number;
  /** When the current access token was issued (the last rotation or the consent), epoch ms. */
  lastRotatedAt: number;
  /** When the user consented (start of the token family), epoch ms. */
  familyStartedAt: number;
  site?: JiraSite;
  /** AES-256-GCM of the tokens, with a key id; see `token-cipher.ts`. */
  ciphertext: string;
}

/** The secrets inside a record's ciphertext. */
export interface TokenSecrets {
  accessToken: string;
  refreshToken: string;
}
