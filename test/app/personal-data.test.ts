// Personal data reporting against the simulator's report-accounts API, with tokens and the cycle's
// state in Redis: batches of at most 90 distinct accounts, closed accounts erased in every tenant
// and nothing else, 429s waited out as Retry-After says, and one report per cycle across
// restarts and processes.

import Redis from 'ioredis';
import type { UserRef } from 'jira-token-rotation';
import { PersonalDataReporter } from '../../app/personal-data-reporter';
import { RedisReportSchedule } from '../../app/redis-report-schedule';
import { REDIS_URL, type TestApp, USER, startTestApp } from './helpers';

const DAY = 24 * 3_600_000;
const OTHER_TENANT = 'tenant-b';

describe('personal data reporting', () => {
  let t: TestApp;
  let redis: Redis;
  /** Accounts per report request, as sent. */
  let batches: number[];
  /** Waits asked for by Retry-After. */
  let waits: number[];
  /** The cycle's clock. */
  let now: number;

  const users = (clientKey: string, from: number, to: number): UserRef[] =>
    Array.from({ length: to - from }, (_, i) => ({ clientKey, accountId: `acct-${from + i}` }));

  /** A reporter as another process (or a restart) would have: its own schedule over the same Redis. */
  const reporter = (answer?: () => Response) =>
    new PersonalDataReporter({
      tokens: t.running.tokens,
      reportUrl: t.running.endpoints.reportAccountsUrl,
      schedule: new RedisReportSchedule(redis, t.keyPrefix),
      logger: t.logger,
      fetch: async (url, init) => {
        batches.push((JSON.parse(String(init?.body)) as { accounts: unknown[] }).accounts.length);
        return answer ? answer() : fetch(url, init);
      },
      now: () => now,
      sleep: async (ms) => void waits.push(ms),
    });

  async function storedUsers(): Promise<string[]> {
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await t.running.tokens.listUsers({ cursor });
      listed.push(...page.users.map(({ user }) => `${user.clientKey}/${user.accountId}`));
      cursor = page.cursor;
    } while (cursor !== undefined);
    return [...new Set(listed)].sort();
  }

  beforeEach(async () => {
    t = await startTestApp({ redis: true });
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    batches = [];
    waits = [];
    now = Date.now();
    const sim = t.running.sim!;
    // 200 accounts in the sandbox tenant, and 10 of them again in another tenant: 200 distinct.
    const stored = [...users(t.tenant.clientKey, 0, 200), ...users(OTHER_TENANT, 0, 10)];
    for (const user of stored) await t.running.tokens.save(user, sim.consent(USER));
  });
  afterEach(async () => {
    await redis.quit();
    await t.close();
  });

  test('200 accounts: 3 batches (90/90/20); the 2 closed accounts are erased in every tenant, nothing else', async () => {
    const sim = t.running.sim!;
    sim.closeAccount('acct-5'); // stored in both tenants
    sim.closeAccount('acct-150');
    const before = await storedUsers();
    expect(before).toHaveLength(210);

    const outcome = await reporter().runIfDue();

    expect(batches).toEqual([90, 90, 20]);
    expect(outcome).toEqual({
      ran: true,
      accounts: 200,
      requests: 3,
      throttled: 0,
      closed: 2,
      erased: 3,
      updated: 0,
    });
    expect(sim.stats().personalData).toMatchObject({
      reports: 3,
      accountsReported: 200,
      closedAnswers: 2,
      rejected: 0,
    });
    const erased = [
      `${t.tenant.clientKey}/acct-5`,
      `${OTHER_TENANT}/acct-5`,
      `${t.tenant.clientKey}/acct-150`,
    ];
    expect(await storedUsers()).toEqual(before.filter((id) => !erased.includes(id)));
    for (const accountId of ['acct-5', 'acct-150']) {
      expect(await t.running.tokens.status({ clientKey: t.tenant.clientKey, accountId })).toBeNull();
    }
    // The same account in the other tenant, not closed, keeps its chain.
    expect(await t.running.tokens.status({ clientKey: OTHER_TENANT, accountId: 'acct-6' })).toMatchObject({
      state: 'active',
    });
    // Logged by count, never by account or token.
    const line = t.logger.entries.find((e) => e.obj.event === 'personal_data_reported');
    expect(line?.obj).toEqual({
      event: 'personal_data_reported',
      accounts: 200,
      requests: 3,
      throttled: 0,
      closed: 2,
      erased: 3,
      updated: 0,
    });
    for (const secret of t.probe.secrets) expect(t.logger.text()).not.toContain(secret);
  });

  test('a 429 is waited out for its Retry-After, then the batch succeeds', async () => {
    t.running.sim!.throttleReports(1, 7);
    const outcome = await reporter().runIfDue();
    expect(waits).toEqual([7_000]);
    expect(batches).toEqual([90, 90, 90, 20]);
    expect(outcome).toMatchObject({ ran: true, requests: 3, throttled: 1 });
    expect(t.running.sim!.stats().personalData).toMatchObject({ reports: 3, throttled: 1 });
  });

  test('an account reported updated is counted and kept: the app stores no profile to refresh', async () => {
    // The profile changes after the records were written (sim clock), so their updatedAt is older.
    await t.advance(1_000);
    await t.http().post('/sim/accounts/acct-9/updated').expect(204);
    await expect(reporter().runIfDue()).resolves.toMatchObject({
      ran: true,
      updated: 1,
      closed: 0,
      erased: 0,
    });
    expect(await storedUsers()).toHaveLength(210);
  });

  test('a hostile answer is never acted on beyond its batch and known statuses', async () => {
    const hostile = () =>
      Response.json({
        accounts: [
          { accountId: 'acct-999', status: 'closed' },
          { accountId: 'acct-1', status: 'deleted' },
          { accountId: ['acct-2'], status: 'closed' },
          'acct-3',
          null,
        ],
      });
    await expect(reporter(hostile).runIfDue()).resolves.toMatchObject({ ran: true, closed: 0, erased: 0 });
    expect(await storedUsers()).toHaveLength(210);
    // A 200 that is not the documented shape fails the cycle, which stays unrecorded.
    now += 7 * 24 * 3_600_000;
    await expect(reporter(() => new Response('<html>', { status: 200 })).runIfDue()).rejects.toThrow('not');
    expect(await storedUsers()).toHaveLength(210);
  });

  test('a restart within the cycle does not report again; after the cycle it does', async () => {
    await reporter().runIfDue();
    expect(batches).toHaveLength(3);

    now += 7 * DAY - 1;
    await expect(reporter().runIfDue()).resolves.toEqual({ ran: false, reason: 'not_due' });
    expect(batches).toHaveLength(3);

    now += 1;
    await expect(reporter().runIfDue()).resolves.toMatchObject({ ran: true, requests: 3 });
    expect(t.running.sim!.stats().personalData.reports).toBe(6);
  });

  test('two processes at once: one reports, the other finds the lease taken', async () => {
    const outcomes = await Promise.all([reporter().runIfDue(), reporter().runIfDue()]);
    expect(outcomes.filter((o) => o.ran)).toHaveLength(1);
    expect(outcomes.find((o) => !o.ran)).toEqual({ ran: false, reason: 'busy' });
    expect(t.running.sim!.stats().personalData.reports).toBe(3);
  });

  test('a failed cycle is not recorded: the next check reports', async () => {
    t.running.sim!.throttleReports(5, 1);
    await expect(reporter().runIfDue()).rejects.toThrow('429');
    expect(await redis.get(`${t.keyPrefix}personal-data-report:last`)).toBeNull();
    await expect(reporter().runIfDue()).resolves.toMatchObject({ ran: true, requests: 3 });
  });

  test("the app's own reporter reports on its cycle", async () => {
    await expect(t.running.reporter!.runIfDue()).resolves.toMatchObject({
      ran: true,
      accounts: 200,
      requests: 3,
    });
    await expect(t.running.reporter!.runIfDue()).resolves.toEqual({ ran: false, reason: 'not_due' });
  });
});
