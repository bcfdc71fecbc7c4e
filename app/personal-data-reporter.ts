// Atlassian's personal data reporting, on its cycle: the app stores Atlassian accountIds (one token
// record per tenant and account), so it reports them, and erases the tokens of closed accounts.
//
// Relied on, from Atlassian's "User privacy guide for app developers"
// (developer.atlassian.com/cloud/jira/platform/user-privacy-developer-guide/):
// - apps that store personal data report each stored accountId periodically, with the time its
//   data was last updated; the default (recommended) cycle is 7 days, and the API must not be
//   polled more often than the cycle;
// - OAuth 2.0 (3LO) apps report to `POST https://api.atlassian.com/app/report-accounts/`, at most
//   90 accounts per request, body `{"accounts":[{"accountId","updatedAt"}]}`;
// - the answer is 204 when no account needs action, else 200 `{"accounts":[{"accountId","status"}]}`
//   with `closed` (erase the account's personal data) or `updated` (refresh it); 429 has Retry-After.
// The endpoint takes a 3LO bearer token; Atlassian's answer on the developer community
// (community.developer.atlassian.com/t/53720) is that a token of the app's own is what it checks,
// so the reporter uses a stored user's access token (from the token manager, one rotation at most).

import { JiraTokenError, type UserRef } from 'jira-token-rotation';
import { setTimeout as delay } from 'node:timers/promises';
import { parseRetryAfter } from 'jira-token-rotation';
import {
  PERSONAL_DATA_DEFAULTS,
  type PersonalDataReporterOptions,
  type ReportCycleResult,
  ReportFailedError,
  type ReportOutcome,
} from './personal-data-options';

/** One stored account: when its data last changed, and where it is stored. */
interface StoredAccount {
  updatedAt: number;
  users: UserRef[];
  /** A user of this account whose chain is active: a bearer candidate. */
  active?: UserRef;
}

/** Runs the reporting cycle: one process at a time, once per `cycleMs`. */
export class PersonalDataReporter {
  private readonly o: Required<PersonalDataReporterOptions>;
  private timer?: NodeJS.Timeout;
  private running?: Promise<ReportOutcome>;
  /** Aborted by `stop()`: a cycle waiting out a Retry-After or a request ends at once. */
  private readonly stopping = new AbortController();

  constructor(options: PersonalDataReporterOptions) {
    this.o = {
      fetch: globalThis.fetch,
      now: Date.now,
      sleep: (ms) => delay(ms, undefined, { signal: this.stopping.signal }),
      cycleMs: PERSONAL_DATA_DEFAULTS.cycleMs,
      checkIntervalMs: PERSONAL_DATA_DEFAULTS.checkIntervalMs,
      batchSize: PERSONAL_DATA_DEFAULTS.batchSize,
      pageSize: PERSONAL_DATA_DEFAULTS.pageSize,
      ...options,
    };
    const { batchSize, cycleMs, checkIntervalMs, pageSize } = this.o;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > PERSONAL_DATA_DEFAULTS.batchSize)
      throw new TypeError(`batchSize must be an integer from 1 to ${PERSONAL_DATA_DEFAULTS.batchSize}`);
    for (const [name, value] of Object.entries({ cycleMs, checkIntervalMs, pageSize })) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new TypeError(`${name} must be a positive integer`);
    }
  }

  /** Checks every `checkIntervalMs` whether a cycle is due (the first check after one interval). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runIfDue().catch(() => undefined), this.o.checkIntervalMs);
    this.timer.unref();
  }

  /** Stops the checks, aborts a running cycle's waits and requests, and waits for it to end. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopping.abort();
    await this.running?.catch(() => undefined);
  }

  /**
   * Runs a cycle if the last complete one is at least `cycleMs` old and no other process holds the
   * lease. A failed cycle is not recorded, so the next check tries again.
   */
  runIfDue(): Promise<ReportOutcome> {
    this.running ??= this.runExclusive().finally(() => (this.running = undefined));
    return this.running;
  }

  private async runExclusive(): Promise<ReportOutcome> {
    const { schedule, logger } = this.o;
    if (!(await this.due())) return { ran: false, reason: 'not_due' };
    const lease = await schedule.tryLease(PERSONAL_DATA_DEFAULTS.leaseMs);
    if (!lease) return { ran: false, reason: 'busy' };
    try {
      // Another process may have completed a cycle between the check and the lease.
      if (!(await this.due())) return { ran: false, reason: 'not_due' };
      const result = await this.cycle();
      await schedule.completed(this.o.now());
      logger.info({ event: 'personal_data_reported', ...result }, 'Reported stored Atlassian accounts');
      return { ran: true, ...result };
    } catch (error) {
      logger.warn(
        { event: 'personal_data_report_failed', err: error instanceof Error ? error.message : 'error' },
        'Personal data reporting failed; the next check retries',
      );
      throw error;
    } finally {
      await lease.release();
    }
  }

  private async due(): Promise<boolean> {
    const last = await this.o.schedule.lastCompletedAt();
    return last === undefined || this.o.now() - last >= this.o.cycleMs;
  }

  private async cycle(): Promise<ReportCycleResult> {
    const accounts = await this.storedAccounts();
    const result: ReportCycleResult = {
      accounts: accounts.size,
      requests: 0,
      throttled: 0,
      closed: 0,
      erased: 0,
      updated: 0,
    };
    const ids = [...accounts.keys()];
    for (let i = 0; i < ids.length; i += this.o.batchSize) {
      const batch = ids.slice(i, i + this.o.batchSize);
      const answer = await this.report(batch, accounts, result);
      for (const { accountId, status } of answer) {
        if (status === 'updated') {
          result.updated += 1;
          continue;
        }
        result.closed += 1;
        // Every tenant's record of the account: its tokens are the personal data we hold.
        for (const user of accounts.get(accountId)!.users) {
          await this.o.tokens.disconnect(user);
          result.erased += 1;
        }
      }
    }
    return result;
  }

  /** Every stored account, de-duplicated across tenants, with its latest change. */
  private async storedAccounts(): Promise<Map<string, StoredAccount>> {
    const accounts = new Map<string, StoredAccount>();
    let cursor: string | undefined;
    do {
      const page = await this.o.tokens.listUsers({ cursor, limit: this.o.pageSize });
      for (const { user, status } of page.users) {
        const entry = accounts.get(user.accountId) ?? { updatedAt: 0, users: [] };
        // A listing may repeat a record; each tenant's record is erased once.
        if (!entry.users.some((u) => u.clientKey === user.clientKey)) entry.users.push(user);
        entry.updatedAt = Math.max(entry.updatedAt, status.lastRotatedAt);
        if (status.state === 'active') entry.active ??= user;
        accounts.set(user.accountId, entry);
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
    return accounts;
  }

  /** One batch: its request, with 429s waited out. Returns the accounts that need action. */
  private async report(
    batch: string[],
    accounts: Map<string, StoredAccount>,
    result: ReportCycleResult,
  ): Promise<{ accountId: string; status: 'closed' | 'updated' }[]> {
    const body = JSON.stringify({
      accounts: batch.map((accountId) => ({
        accountId,
        updatedAt: new Date(accounts.get(accountId)!.updatedAt).toISOString(),
      })),
    });
    for (let attempt = 1; ; attempt++) {
      const response = await this.o.fetch(this.o.reportUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await this.bearer(batch, accounts)}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body,
        signal: AbortSignal.any([
          this.stopping.signal,
          AbortSignal.timeout(PERSONAL_DATA_DEFAULTS.requestTimeoutMs),
        ]),
      });
      if (response.status === 204) {
        result.requests += 1;
        return [];
      }
      if (response.status === 200) {
        result.requests += 1;
        return parseAnswer(await response.json().catch(() => null), new Set(batch));
      }
      await response.body?.cancel();
      if (response.status !== 429) throw new ReportFailedError(`The report was answered ${response.status}`);
      const waitMs =
        parseRetryAfter(response.headers.get('retry-after'), this.o.now()) ??
        PERSONAL_DATA_DEFAULTS.defaultRetryAfterMs;
      if (attempt >= PERSONAL_DATA_DEFAULTS.maxAttempts || waitMs > PERSONAL_DATA_DEFAULTS.maxRetryAfterMs)
        throw new ReportFailedError('The report was answered 429 too long');
      result.throttled += 1;
      await this.o.sleep(waitMs);
    }
  }

  /** A live access token of one of the batch's users (active chains first). */
  private async bearer(batch: string[], accounts: Map<string, StoredAccount>): Promise<string> {
    const candidates = batch
      .map((id) => accounts.get(id)!.active)
      .filter((user): user is UserRef => user !== undefined)
      .slice(0, PERSONAL_DATA_DEFAULTS.maxBearerCandidates);
    for (const user of candidates) {
      try {
        return (await this.o.tokens.getAccessToken(user)).accessToken;
      } catch (error) {
        if (!(error instanceof JiraTokenError)) throw error;
      }
    }
    throw new ReportFailedError('No stored user of the batch has a usable access token');
  }
}

/**
 * The accounts of a 200 answer that need action. An answer from outside is checked: entries that
 * are malformed, not of this batch, or of an unknown status are ignored, never acted on.
 */
function parseAnswer(
  body: unknown,
  batch: Set<string>,
): { accountId: string; status: 'closed' | 'updated' }[] {
  const list = (body as { accounts?: unknown } | null)?.accounts;
  if (!Array.isArray(list)) throw new ReportFailedError('The report answer is not {"accounts":[...]}');
  const actions: { accountId: string; status: 'closed' | 'updated' }[] = [];
  const seen = new Set<string>();
  for (const entry of list) {
    const { accountId, status } = (entry ?? {}) as Record<string, unknown>;
    if (typeof accountId !== 'string' || !batch.has(accountId) || seen.has(accountId)) continue;
    if (status !== 'closed' && status !== 'updated') continue;
    seen.add(accountId);
    actions.push({ accountId, status });
  }
  return actions;
}
