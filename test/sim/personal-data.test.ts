// The personal data reporting API of the simulator: Atlassian's contract (≤ 90 accounts, 204 or
// 200 with the accounts that need action, 429 with Retry-After), strict validation, and counters.

import request from 'supertest';
import { MAX_REPORTED_ACCOUNTS, createSimulator, type Simulator } from '../../sim';
import { consentWithRefreshToken } from './helpers';

const AT = '2026-11-01T10:00:00.000Z';

function accounts(count: number, prefix = 'acc'): { accountId: string; updatedAt: string }[] {
  return Array.from({ length: count }, (_, i) => ({ accountId: `${prefix}-${i}`, updatedAt: AT }));
}

describe('POST /app/report-accounts/', () => {
  let sim: Simulator;
  let bearerToken: string;
  const report = (body: unknown, token = bearerToken) =>
    request(sim.app)
      .post('/app/report-accounts/')
      .auth(token, { type: 'bearer' })
      .send(body as object);

  beforeEach(() => {
    sim = createSimulator();
    bearerToken = consentWithRefreshToken(sim).access_token;
  });
  afterEach(() => sim.close());

  test('no account needing action: 204, counted', async () => {
    const res = await report({ accounts: accounts(MAX_REPORTED_ACCOUNTS) });
    expect(res.status).toBe(204);
    expect(sim.stats().personalData).toEqual({
      reports: 1,
      accountsReported: 90,
      closedAnswers: 0,
      updatedAnswers: 0,
      throttled: 0,
      rejected: 0,
    });
  });

  test('closed and updated accounts: 200 with those accounts only, in the order reported', async () => {
    sim.closeAccount('acc-3');
    await request(sim.app).post('/accounts/acc-1/close').expect(204);
    // The profile changed after AT: a report with updatedAt AT is stale; a later one is not.
    sim.clock.set(Date.parse(AT) + 1_000);
    await request(sim.app).post('/accounts/acc-2/updated').expect(204);
    const res = await report({ accounts: accounts(5) }).expect(200);
    expect(res.body).toEqual({
      accounts: [
        { accountId: 'acc-1', status: 'closed' },
        { accountId: 'acc-2', status: 'updated' },
        { accountId: 'acc-3', status: 'closed' },
      ],
    });
    await report({
      accounts: [{ accountId: 'acc-2', updatedAt: new Date(Date.parse(AT) + 2_000).toISOString() }],
    }).expect(204);
    expect(sim.stats().personalData).toMatchObject({ reports: 2, closedAnswers: 2, updatedAnswers: 1 });
  });

  test.each([
    ['91 accounts', { accounts: accounts(91) }],
    ['no accounts', { accounts: [] }],
    ['not an array', { accounts: 'acc-1' }],
    ['an extra field', { accounts: accounts(1), cursor: 1 }],
    ['a bad accountId', { accounts: [{ accountId: 'a b', updatedAt: AT }] }],
    ['a too long accountId', { accounts: [{ accountId: 'a'.repeat(129), updatedAt: AT }] }],
    ['a bad updatedAt', { accounts: [{ accountId: 'acc-1', updatedAt: '2026-11-01' }] }],
    ['a numeric updatedAt', { accounts: [{ accountId: 'acc-1', updatedAt: 1_700_000_000_000 }] }],
    ['an extra account field', { accounts: [{ accountId: 'acc-1', updatedAt: AT, email: 'x@y' }] }],
    ['a repeated accountId', { accounts: [...accounts(2), accounts(1)[0]] }],
  ])('%s: 400, nothing answered, counted as rejected', async (_name, body) => {
    sim.closeAccount('acc-0');
    const res = await report(body).expect(400);
    expect(res.body).toEqual({ code: 400, message: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toContain('acc-0');
    expect(sim.stats().personalData).toMatchObject({ reports: 0, rejected: 1, closedAnswers: 0 });
  });

  test('without a valid bearer token: 401', async () => {
    await report({ accounts: accounts(1) }, 'not-a-token').expect(401);
    await request(sim.app)
      .post('/app/report-accounts/')
      .send({ accounts: accounts(1) })
      .expect(401);
    expect(sim.stats().personalData.reports).toBe(0);
  });

  test('forced 429s carry Retry-After, then reports are answered again', async () => {
    await request(sim.app)
      .post('/report-accounts/throttle')
      .send({ count: 2, retryAfterSeconds: 7 })
      .expect(204);
    for (let i = 0; i < 2; i++) {
      const res = await report({ accounts: accounts(1) }).expect(429);
      expect(res.headers['retry-after']).toBe('7');
    }
    await report({ accounts: accounts(1) }).expect(204);
    expect(sim.stats().personalData).toMatchObject({ throttled: 2, reports: 1 });
  });

  test('the throttle control validates its body', async () => {
    await request(sim.app)
      .post('/report-accounts/throttle')
      .send({ count: -1, retryAfterSeconds: 1 })
      .expect(400);
    await request(sim.app)
      .post('/report-accounts/throttle')
      .send({ count: 1, retryAfterSeconds: 1.5 })
      .expect(400);
    await report({ accounts: accounts(1) }).expect(204);
  });
});
