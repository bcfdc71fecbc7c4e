// req.jira.fetch's own budget: a hanging Jira call is aborted after apiTimeoutMs, and a caller's
// signal still applies.

import { createJiraContext } from '../../lib/jira-client';

const user = { clientKey: 'tenant', accountId: 'acct' };
const token = { accessToken: 'at-1', expiresAt: Date.now() + 3_600_000, cloudId: 'cloud-1' };

/** A fetch that never answers but honours its abort signal, like a real one. */
const hangingFetch = (async (_url: string | URL | Request, init?: RequestInit) =>
  new Promise<Response>((_resolve, reject) => {
    init?.signal?.addEventListener('abort', () => reject(init.signal!.reason), { once: true });
  })) as typeof fetch;

describe('req.jira.fetch', () => {
  test('a Jira call that hangs is aborted after apiTimeoutMs', async () => {
    const context = createJiraContext(
      { apiBaseUrl: 'https://api.example', apiTimeoutMs: 50, fetch: hangingFetch, getAccessToken: jest.fn() },
      user,
      token,
    );
    await expect(context.fetch('/rest/api/3/myself')).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  test("the caller's own signal still aborts the call", async () => {
    const context = createJiraContext(
      {
        apiBaseUrl: 'https://api.example',
        apiTimeoutMs: 60_000,
        fetch: hangingFetch,
        getAccessToken: jest.fn(),
      },
      user,
      token,
    );
    const controller = new AbortController();
    const call = context.fetch('/rest/api/3/myself', { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(call).rejects.toThrow('caller gave up');
  });
});
