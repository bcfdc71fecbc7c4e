// Jira's own limits: a macro whose Jira call is rate limited or failing is retried a bounded number
// of times (counted in jira_api_retries_total{status}), and what still fails renders the retry
// view: no stack trace, no token.

import { sample } from '../support/prom-text';
import { type TestApp, USER, startTestApp, stateOf } from './helpers';

describe('a macro against a rate-limited or failing Jira', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
    await t.connect(USER);
    // The consent's own calls are done; from here every API request is the macro's search.
    expect(stateOf((await t.macro(USER)).text)).toBe('ready');
  });
  afterEach(async () => {
    await t.close();
  });

  async function retries(status: number): Promise<number | undefined> {
    const text = (await t.http().get('/metrics').expect(200)).text;
    return sample(text, `jira_api_retries_total{status="${status}"}`);
  }

  /** The retry view: 503, Retry-After, the error state; nothing of an exception, no token. */
  function expectRetryView(
    res: { status: number; text: string; headers: Record<string, string> },
    retryAfter: string,
  ) {
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe(retryAfter);
    expect(stateOf(res.text)).toBe('error');
    expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+|Error:|TypeError/);
    for (const secret of t.probe.secrets) expect(res.text).not.toContain(secret);
  }

  test('a 429 is retried after its Retry-After, and an answer on the third try renders the issues', async () => {
    const before = (await t.stats()).apiRequests;
    t.running.sim!.scriptApiAnswers([
      { status: 429, retryAfterSeconds: 0 },
      { status: 429, retryAfterSeconds: 0 },
    ]);
    const res = await t.macro(USER);
    expect(res.status).toBe(200);
    expect(stateOf(res.text)).toBe('ready');
    expect(await retries(429)).toBe(2);
    expect((await t.stats()).apiRequests - before).toBe(3);
  });

  test('429s past the retry budget: two retries, then the retry view', async () => {
    const before = (await t.stats()).apiRequests;
    t.running.sim!.scriptApiAnswers(Array(3).fill({ status: 429, retryAfterSeconds: 0 }));
    const res = await t.macro(USER);
    expectRetryView(res, '5');
    expect(await retries(429)).toBe(2);
    expect((await t.stats()).apiRequests - before).toBe(3);
  });

  test('a Retry-After longer than the wait allowed is not waited for: the retry view passes it on', async () => {
    t.running.sim!.scriptApiAnswers([{ status: 429, retryAfterSeconds: 120 }]);
    expectRetryView(await t.macro(USER), '120');
    expect(await retries(429)).toBe(0);
  });

  test('503s: two retries, then the retry view', async () => {
    t.running.sim!.scriptApiAnswers(
      Array(3)
        .fill({ status: 503 })
        .map(() => ({ status: 503, retryAfterSeconds: 0 })),
    );
    expectRetryView(await t.macro(USER), '5');
    expect(await retries(503)).toBe(2);
    expect(await retries(429)).toBe(0);
  });

  test('a dropped connection renders the retry view and logs the failure by name only', async () => {
    t.running.sim!.scriptApiAnswers([{ drop: true }]);
    expectRetryView(await t.macro(USER), '5');
    expect(t.logger.events('jira_unreachable').map((e) => e.obj.err)).toEqual(['TypeError']);
    expect(await retries(429)).toBe(0);
    expect(await retries(503)).toBe(0);
  });
});
