// req.jira.fetch on its own: its timeout, the caller's signal, and Jira's 429/503 Retry-After
// honoured with bounded, jittered retries (time is injected: no test waits for real).

import { type JiraClientDeps, createJiraContext } from '../../src/express/jira-client';
import { DEFAULT_JIRA_RETRY, parseRetryAfter, retryDelay } from '../../src/express/jira-retry';

const user = { clientKey: 'tenant', accountId: 'acct' };
const token = { accessToken: 'at-1', expiresAt: Date.now() + 3_600_000, cloudId: 'cloud-1' };
const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

/** A fetch that never answers but honours its abort signal, like a real one. */
const hangingFetch = (async (_url: string | URL | Request, init?: RequestInit) =>
  new Promise<Response>((_resolve, reject) => {
    init?.signal?.addEventListener('abort', () => reject(init.signal!.reason), { once: true });
  })) as typeof fetch;

/** A fetch answering from a script of statuses and headers, recording each call. */
function scriptedFetch(answers: Array<{ status: number; headers?: Record<string, string> }>) {
  const calls: Array<{ url: string; method: string; authorization: string | null }> = [];
  const fetchFn = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({
      url: String(url),
      method: init?.method ?? 'GET',
      authorization: new Headers(init?.headers).get('authorization'),
    });
    const answer = answers.shift() ?? { status: 200 };
    return new Response(answer.status === 200 ? '{"ok":true}' : 'busy', answer);
  }) as typeof fetch;
  return { fetchFn, calls };
}

function deps(
  overrides: Partial<JiraClientDeps> = {},
): JiraClientDeps & { slept: number[]; retried: number[] } {
  const slept: number[] = [];
  const retried: number[] = [];
  return {
    apiBaseUrl: 'https://api.example',
    apiTimeoutMs: 60_000,
    fetch: hangingFetch,
    getAccessToken: jest.fn(async () => ({
      accessToken: 'at-2',
      expiresAt: NOW + 3_600_000,
      cloudId: 'cloud-1',
    })),
    retry: DEFAULT_JIRA_RETRY,
    sleep: async (ms) => {
      slept.push(ms);
    },
    onRetry: (status) => retried.push(status),
    now: () => NOW,
    slept,
    retried,
    ...overrides,
  };
}

describe('req.jira', () => {
  test('shows the token, its expiry and the cloudId, and nothing of how it reaches Jira', () => {
    const context = createJiraContext(deps(), user, token);
    expect(Object.keys(context).sort()).toEqual(['accessToken', 'cloudId', 'expiresAt']);
    expect(JSON.parse(JSON.stringify(context))).toEqual(token);
  });

  test('fetch works detached from req.jira, and a 401 refresh updates req.jira', async () => {
    const { fetchFn, calls } = scriptedFetch([{ status: 401 }, { status: 200 }]);
    const context = createJiraContext(deps({ fetch: fetchFn }), user, token);
    const { fetch: detached } = context;
    expect((await detached('/rest/api/3/myself')).status).toBe(200);
    expect(calls.map((c) => c.authorization)).toEqual(['Bearer at-1', 'Bearer at-2']);
    expect(context.accessToken).toBe('at-2');
  });
});

describe('req.jira.fetch', () => {
  test('a Jira call that hangs is aborted after apiTimeoutMs', async () => {
    const context = createJiraContext(deps({ apiTimeoutMs: 50 }), user, token);
    await expect(context.fetch('/rest/api/3/myself')).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  test("the caller's own signal still aborts the call", async () => {
    const context = createJiraContext(deps(), user, token);
    const controller = new AbortController();
    const call = context.fetch('/rest/api/3/myself', { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(call).rejects.toThrow('caller gave up');
  });

  test('a 429 with Retry-After is waited for and retried, and counted', async () => {
    const { fetchFn, calls } = scriptedFetch([
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 200 },
    ]);
    const d = deps({ fetch: fetchFn });
    const response = await createJiraContext(d, user, token).fetch('/rest/api/3/search/jql?jql=x');
    expect(response.status).toBe(200);
    expect(calls).toHaveLength(2);
    expect(d.retried).toEqual([429]);
    expect(d.slept).toHaveLength(1);
    expect(d.slept[0]).toBeGreaterThanOrEqual(2_000);
    expect(d.slept[0]).toBeLessThanOrEqual(2_400);
  });

  test('retries are bounded: after maxRetries the last 429 is returned as it is', async () => {
    const busy = { status: 429, headers: { 'retry-after': '0' } };
    const { fetchFn, calls } = scriptedFetch([busy, busy, busy, busy]);
    const d = deps({ fetch: fetchFn });
    const response = await createJiraContext(d, user, token).fetch('/rest/api/3/myself');
    expect(response.status).toBe(429);
    expect(calls).toHaveLength(3);
    expect(d.retried).toEqual([429, 429]);
  });

  test('a Retry-After longer than the policy allows is not waited for', async () => {
    const { fetchFn, calls } = scriptedFetch([{ status: 503, headers: { 'retry-after': '120' } }]);
    const d = deps({ fetch: fetchFn });
    const response = await createJiraContext(d, user, token).fetch('/rest/api/3/myself');
    expect(response.status).toBe(503);
    expect(calls).toHaveLength(1);
    expect(d.slept).toEqual([]);
  });

  test('a 503 to a POST is not retried (it may have been processed), a 429 to a POST is', async () => {
    const first = scriptedFetch([{ status: 503 }]);
    const d1 = deps({ fetch: first.fetchFn });
    expect(
      (await createJiraContext(d1, user, token).fetch('/rest/api/3/issue', { method: 'POST' })).status,
    ).toBe(503);
    expect(first.calls).toHaveLength(1);
    const second = scriptedFetch([{ status: 429 }, { status: 200 }]);
    const d2 = deps({ fetch: second.fetchFn });
    expect(
      (await createJiraContext(d2, user, token).fetch('/rest/api/3/issue', { method: 'POST' })).status,
    ).toBe(200);
    expect(d2.slept).toHaveLength(1); // no Retry-After: the 500 ms base delay, with jitter
    expect(d2.slept[0]).toBeGreaterThanOrEqual(500);
  });

  test('a 401 refreshes once through the manager, then Jira limits are still honoured', async () => {
    const { fetchFn, calls } = scriptedFetch([
      { status: 401 },
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 200 },
    ]);
    const d = deps({ fetch: fetchFn });
    const response = await createJiraContext(d, user, token).fetch('/rest/api/3/myself');
    expect(response.status).toBe(200);
    expect(d.getAccessToken).toHaveBeenCalledTimes(1);
    expect(d.getAccessToken).toHaveBeenCalledWith(user, { rejected: 'at-1' });
    expect(calls.map((c) => c.authorization)).toEqual(['Bearer at-1', 'Bearer at-2', 'Bearer at-2']);
  });
});

describe('Retry-After parsing and the delay policy', () => {
  test('delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', NOW)).toBe(3_000);
    expect(parseRetryAfter(new Date(NOW + 4_000).toUTCString(), NOW)).toBe(4_000);
    expect(parseRetryAfter(new Date(NOW - 4_000).toUTCString(), NOW)).toBe(0);
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
  });

  test('base delay doubles per retry; jitter stays within 20 %', () => {
    expect(retryDelay(DEFAULT_JIRA_RETRY, 1, null, NOW, () => 0)).toBe(500);
    expect(retryDelay(DEFAULT_JIRA_RETRY, 2, null, NOW, () => 0)).toBe(1_000);
    expect(retryDelay(DEFAULT_JIRA_RETRY, 2, null, NOW, () => 1)).toBe(1_200);
    expect(retryDelay(DEFAULT_JIRA_RETRY, 1, '10', NOW, () => 0)).toBeUndefined();
  });
});
