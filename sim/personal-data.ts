// Atlassian's personal data reporting API, simulated: which accounts are closed or changed, the
// report's validation, its answer, and forced 429s.
//
// The contract, from Atlassian's "User privacy guide for app developers"
// (developer.atlassian.com/cloud/jira/platform/user-privacy-developer-guide/): an app reports the
// accountIds it stores, each with the time it last updated that account's data, at most 90 per
// request; the answer lists only the accounts that need action, `closed` (erase the personal data)
// or `updated` (refresh it), and is 204 when none does; a 429 carries `Retry-After`.

/** At most this many accounts per report (Atlassian's documented batch limit). */
export const MAX_REPORTED_ACCOUNTS = 90;

/** An accountId as Atlassian documents it: 1–128 of alphanumerics, `-` and `:`. */
const ACCOUNT_ID = /^[A-Za-z0-9:-]{1,128}$/;
/** An ISO 8601 date-time with a zone, as `Date.prototype.toISOString` writes it (zones other than Z allowed). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** One reported account. */
export interface ReportedAccount {
  accountId: string;
  /** Epoch ms. */
  updatedAt: number;
}

/** What an account reported needs, in the answer. */
export type AccountAction = 'closed' | 'updated';

/** The accounts' privacy state and the report endpoint's forced throttling. */
export class PersonalDataRegistry {
  private readonly closed = new Set<string>();
  /** When each changed account's profile last changed, epoch ms. */
  private readonly changedAt = new Map<string, number>();
  private throttled: { remaining: number; retryAfterSeconds: number } = {
    remaining: 0,
    retryAfterSeconds: 0,
  };

  /** The account is closed: every later report of it answers `closed`. */
  close(accountId: string): void {
    this.closed.add(accountId);
  }

  /** The account's profile changed at `at`: a report with an older `updatedAt` answers `updated`. */
  markUpdated(accountId: string, at: number): void {
    this.changedAt.set(accountId, at);
  }

  /** The next `count` reports are answered 429 with `Retry-After: retryAfterSeconds`. */
  throttle(count: number, retryAfterSeconds: number): void {
    this.throttled = { remaining: count, retryAfterSeconds };
  }

  /** Consumes one forced 429, if any: its `Retry-After` in seconds. */
  takeThrottle(): number | undefined {
    if (this.throttled.remaining === 0) return undefined;
    this.throttled.remaining -= 1;
    return this.throttled.retryAfterSeconds;
  }

  /** The accounts that need action, in the order reported. */
  actions(accounts: readonly ReportedAccount[]): { accountId: string; status: AccountAction }[] {
    const result: { accountId: string; status: AccountAction }[] = [];
    for (const { accountId, updatedAt } of accounts) {
      if (this.closed.has(accountId)) result.push({ accountId, status: 'closed' });
      else if ((this.changedAt.get(accountId) ?? -Infinity) > updatedAt)
        result.push({ accountId, status: 'updated' });
    }
    return result;
  }
}

/**
 * Checks a report's body. The sim is stricter than the documentation says: extra fields and an
 * accountId reported twice in one request are refused too, so a client that forgets to
 * de-duplicate is caught. Messages never echo values.
 */
export function parseReport(
  body: unknown,
): { ok: true; accounts: ReportedAccount[] } | { ok: false; message: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, message: 'The body must be a JSON object.' };
  const { accounts, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return { ok: false, message: 'Only "accounts" is allowed.' };
  if (!Array.isArray(accounts) || accounts.length === 0)
    return { ok: false, message: '"accounts" must be a non-empty array.' };
  if (accounts.length > MAX_REPORTED_ACCOUNTS)
    return { ok: false, message: `At most ${MAX_REPORTED_ACCOUNTS} accounts per request.` };
  const seen = new Set<string>();
  const parsed: ReportedAccount[] = [];
  for (const [i, entry] of accounts.entries()) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      return { ok: false, message: `accounts[${i}] must be an object.` };
    const { accountId, updatedAt, ...extra } = entry as Record<string, unknown>;
    if (Object.keys(extra).length > 0)
      return { ok: false, message: `accounts[${i}] may hold accountId and updatedAt only.` };
    if (typeof accountId !== 'string' || !ACCOUNT_ID.test(accountId))
      return { ok: false, message: `accounts[${i}].accountId is not an accountId.` };
    const at = typeof updatedAt === 'string' && DATE_TIME.test(updatedAt) ? Date.parse(updatedAt) : NaN;
    if (!Number.isFinite(at))
      return { ok: false, message: `accounts[${i}].updatedAt is not an ISO 8601 date-time.` };
    if (seen.has(accountId)) return { ok: false, message: `accounts[${i}] repeats an accountId.` };
    seen.add(accountId);
    parsed.push({ accountId, updatedAt: at });
  }
  return { ok: true, accounts: parsed };
}
