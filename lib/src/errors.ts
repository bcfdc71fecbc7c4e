// The typed errors of the token core. Each has a stable `code` the app can switch on, and none
// of their messages ever contains a token, a code, a state or a JWT (invariant 6).

/** Stable error codes. */
export const ErrorCodes = Object.freeze({
  NOT_CONNECTED: 'jira_not_connected',
  REAUTHORIZATION_REQUIRED: 'jira_reauthorization_required',
  UPSTREAM_UNAVAILABLE: 'jira_upstream_unavailable',
  LOCK_UNAVAILABLE: 'jira_lock_unavailable',
  STORE_UNAVAILABLE: 'jira_store_unavailable',
  CLIENT_CREDENTIALS_REJECTED: 'jira_client_credentials_rejected',
  RECORD_UNREADABLE: 'jira_record_unreadable',
  INVALID_USER: 'jira_invalid_user',
} as const);

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class of every error the token manager throws at request time. */
export class JiraTokenError extends Error {
  /** The HTTP status the middleware answers with. */
  readonly status: number;
  /** Seconds a client should wait before retrying, for 503s. */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { status: number; retryAfterSeconds?: number; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** True for errors the user fixes by (re)connecting Jira, false for transient ones. */
  get needsConsent(): boolean {
    return this.code === ErrorCodes.NOT_CONNECTED || this.code === ErrorCodes.REAUTHORIZATION_REQUIRED;
  }
}

/** The user has never connected Jira, or disconnected. */
export class NotConnectedError extends JiraTokenError {
  constructor() {
    super(ErrorCodes.NOT_CONNECTED, 'The user has not connected Jira', { status: 401 });
  }
}

/** The token family is gone (revoked, expired, or recovery failed): the user must consent again. */
export class ReauthorizationRequiredError extends JiraTokenError {
  constructor(cause?: unknown) {
    super(ErrorCodes.REAUTHORIZATION_REQUIRED, 'Jira authorization expired; the user must reconnect Jira', {
      status: 401,
      cause,
    });
  }
}

/** Atlassian's token endpoint failed or its answer was lost; the chain is kept and recovered. */
export class UpstreamUnavailableError extends JiraTokenError {
  constructor(message: string, retryAfterSeconds: number, cause?: unknown) {
    super(ErrorCodes.UPSTREAM_UNAVAILABLE, message, { status: 503, retryAfterSeconds, cause });
  }
}

/**
 * Retry-After of the 503 when the lock, the notice channel or the store is unavailable (Redis down,
 * or shut down): long enough for a Redis restart or failover to start.
 */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** The refresh lock could not be taken or waited for (Redis down, or the wait budget ran out). */
export class LockUnavailableError extends JiraTokenError {
  constructor(message: string, retryAfterSeconds: number, cause?: unknown) {
    super(ErrorCodes.LOCK_UNAVAILABLE, message, { status: 503, retryAfterSeconds, cause });
  }
}

/** The token store failed. */
export class StoreUnavailableError extends JiraTokenError {
  constructor(message: string, retryAfterSeconds: number, cause?: unknown) {
    super(ErrorCodes.STORE_UNAVAILABLE, message, { status: 503, retryAfterSeconds, cause });
  }
}

/**
 * The store wrote, but fewer replicas than asked acknowledged the write in time (Redis `WAIT`): a
 * failover may still lose it. A store that waits for replication throws it from a write that
 * landed on the primary only; the writer treats the write as not done (DESIGN.md invariant 15).
 */
export class NotDurableError extends StoreUnavailableError {
  constructor(
    readonly acknowledged: number,
    readonly required: number,
  ) {
    super(
      `The token store wrote, but ${acknowledged} of ${required} replicas acknowledged it in time`,
      UNAVAILABLE_RETRY_AFTER_SECONDS,
    );
  }
}

/** Atlassian rejected our client id or secret (`invalid_client`): a configuration alarm, no user is marked. */
export class ClientCredentialsRejectedError extends JiraTokenError {
  constructor(retryAfterSeconds: number) {
    super(
      ErrorCodes.CLIENT_CREDENTIALS_REJECTED,
      'Atlassian rejected the app client credentials (invalid_client): check clientId and clientSecret',
      { status: 503, retryAfterSeconds },
    );
  }
}

/** A stored record could not be decrypted with any configured key (wrong key, or tampered). */
export class RecordUnreadableError extends JiraTokenError {
  constructor(cause?: unknown) {
    super(
      ErrorCodes.RECORD_UNREADABLE,
      'The stored Jira token record cannot be decrypted with any configured key',
      {
        status: 503,
        retryAfterSeconds: 60,
        cause,
      },
    );
  }
}

/**
 * The request names a user the token store cannot hold: a `clientKey` or `accountId` that is empty,
 * longer than 512 characters, or not a well-formed string. A client error (400), never a 500.
 */
export class InvalidUserError extends JiraTokenError {
  constructor(cause?: unknown) {
    super(
      ErrorCodes.INVALID_USER,
      'The user cannot be used: clientKey and accountId must be non-empty strings of at most 512 characters',
      { status: 400, cause },
    );
  }
}
