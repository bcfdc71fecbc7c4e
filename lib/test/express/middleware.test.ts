// The Express middleware and `req.jira`: who gets a token, how every failure is answered, and how
// a 401 from Jira costs one rotation however many requests saw it, on express 4 and express 5 (the
// package's peer range), since a vendor may mount it on either.

import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response as ExpressResponse,
} from 'express';
import express4Package from 'express/package.json';
import express5 from 'express5';
import express5Package from 'express5/package.json';
import request from 'supertest';
import { createTokenManager } from '../../src/manager/create-token-manager';
import { type JiraTokenError, ErrorCodes, InvalidUserError } from '../../src/errors';
import { type JiraRequestContext, jiraUrl } from '../../src/express/jira-client';
import type { Logger } from '../../src/logger';
import { MemoryTokenStore } from '../../src/store/memory-token-store';
import type { MiddlewareOptions } from '../../src/express/middleware';
import { DEFAULTS, type TokenManagerOptions } from '../../src/manager/options';
import type { TokenManager } from '../../src/manager/token-manager';
import type { UserRef } from '../../src/types';
import { aceUserResolver } from '../../src/ace';
import { pollUntil } from '../../../support/poll-until';

const TOKEN_URL = DEFAULTS.tokenUrl;
const API = DEFAULTS.apiBaseUrl;
const MYSELF_URL = `${API}/ex/jira/cloud-1/rest/api/3/myself`;
const HOUR = 3_600_000;
const alice: UserRef = { clientKey: 'tenant-1', accountId: 'alice' };
const site = { cloudId: 'cloud-1', url: 'https://acme.atlassian.net' };
const SECRETS = ['at-1', 'rt-1', 'at-2', 'rt-2', 'at-3', 'rt-3', 'client-secret-1'];

interface Call {
  url: string;
  authorization: string | null;
}

/**
 * A fake of auth.atlassian.com and api.atlassian.com, routed by URL. The token endpoint issues
 * at-N/rt-N from a counter (the first refresh gives at-2); the API answers 401 to `revoked` tokens.
 */
function fakeAtlassian() {
  const calls: Call[] = [];
  let issued = 1;
  const fake = {
    calls,
    revoked: new Set<string>(),
    barrier: undefined as { size: number; waiting: Array<() => void> } | undefined,
    /** Overrides the token endpoint's answer (a 500, an invalid_client). */
    tokenAnswer: undefined as (() => Response) | undefined,
    tokenCalls: () => calls.filter((c) => c.url === TOKEN_URL),
    apiCalls: () => calls.filter((c) => c.url.startsWith(`${API}/ex/jira/`)),
    fetch: (async (input: string | URL | Request, init: RequestInit = {}) => {
      const url = String(input);
      const authorization = new Headers(init.headers).get('authorization');
      calls.push({ url, authorization });
      if (url === TOKEN_URL) {
        if (fake.tokenAnswer) return fake.tokenAnswer();
        issued += 1;
        return json(200, {
          access_token: `at-${issued}`,
          refresh_token: `rt-${issued}`,
          expires_in: 3600,
          token_type: 'Bearer',
        });
      }
      if (url.startsWith(`${API}/ex/jira/`)) {
        const token = authorization?.replace(/^Bearer /, '') ?? '';
        if (fake.revoked.has(token)) {
          // With a barrier, the 401s are held until `size` requests have used the token, so they
          // really are concurrent: none can see a refreshed token before all saw the old one.
          const barrier = fake.barrier;
          if (barrier) {
            await new Promise<void>((resolve) => {
              barrier.waiting.push(resolve);
              if (barrier.waiting.length === barrier.size) barrier.waiting.forEach((release) => release());
            });
          }
          return json(401, { code: 401, message: 'Client must be authenticated' });
        }
        return json(200, { accountId: 'alice-account', displayName: 'Alice' });
      }
      return new Response('not found', { status: 404 });
    }) as typeof fetch,
  };
  return fake;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function recordingLogger(): Logger & Record<'debug' | 'info' | 'warn' | 'error', jest.Mock> {
  return { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
}

/** The user named by the `x-user` header of tenant-1, or anonymous without it. */
const headerUser = (req: Request): UserRef | null => {
  const accountId = req.get('x-user');
  return accountId ? { clientKey: 'tenant-1', accountId } : null;
};

/** Asserts that no token (nor the client secret) appears in a response, body or headers. */
function expectNoSecrets(res: request.Response): void {
  const text = `${res.text}\n${JSON.stringify(res.headers)}`;
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

/** The two majors of the peer range, each with the version it really is. */
const EXPRESS_MAJORS = [
  { major: 4, createApp: express, version: express4Package.version },
  { major: 5, createApp: express5, version: express5Package.version },
];

it('runs on express 4 and express 5 indeed', () => {
  expect(EXPRESS_MAJORS.map((e) => Number(e.version.split('.')[0]))).toEqual([4, 5]);
  expect(express5).not.toBe(express);
});

describe.each(EXPRESS_MAJORS)('token middleware on express $major', ({ createApp }) => {
  let clock: number;
  let atlassian: ReturnType<typeof fakeAtlassian>;
  let store: MemoryTokenStore;
  let logger: ReturnType<typeof recordingLogger>;
  let manager: TokenManager;
  let seen: Array<JiraRequestContext | undefined>;

  beforeEach(async () => {
    clock = 1_700_000_000_000;
    atlassian = fakeAtlassian();
    store = new MemoryTokenStore();
    logger = recordingLogger();
    seen = [];
    await connectAlice();
  });

  /** A manager on this test's fakes (with `overrides`), and alice connected through it. */
  async function connectAlice(overrides: Partial<TokenManagerOptions> = {}): Promise<void> {
    manager = createTokenManager({
      clientId: 'client-id-1',
      clientSecret: 'client-secret-1',
      fetch: atlassian.fetch,
      now: () => clock,
      recoveryIntervalMs: 0,
      store,
      logger,
      ...overrides,
    });
    await manager.save(alice, { access_token: 'at-1', refresh_token: 'rt-1', expires_in: 3600 }, site);
  }

  afterEach(async () => {
    await manager.close();
    // Invariant 6: whatever happened, no log line carries a token or the client secret.
    const logged = JSON.stringify(
      [logger.debug, logger.info, logger.warn, logger.error].map((fn) => fn.mock.calls),
    );
    for (const secret of SECRETS) expect(logged).not.toContain(secret);
  });

  /** An app with the middleware (optionally after `before`) and routes that record `req.jira`. */
  function app(
    options: MiddlewareOptions = { resolveUser: headerUser },
    before?: RequestHandler,
  ): express.Express {
    const application = createApp();
    if (before) application.use(before);
    application.use(manager.middleware(options));
    application.get('/macro', (req, res) => {
      seen.push(req.jira);
      res.json({ connected: req.jira !== undefined, cloudId: req.jira?.cloudId ?? null });
    });
    application.get('/myself', async (req, res, next) => {
      try {
        const answer = await req.jira!.fetch('/rest/api/3/myself');
        res.status(answer.status).json(await answer.json());
      } catch (error) {
        next(error);
      }
    });
    application.use((error: Error, _req: Request, res: ExpressResponse, _next: NextFunction) => {
      res.status(500).json({ error: error.name });
    });
    return application;
  }

  describe('req.jira', () => {
    it('attaches the access token, its expiry and the cloudId, with no token request', async () => {
      const res = await request(app()).get('/macro').set('x-user', 'alice');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ connected: true, cloudId: 'cloud-1' });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ accessToken: 'at-1', cloudId: 'cloud-1', expiresAt: clock + HOUR });
      expect(atlassian.calls).toEqual([]);
      expectNoSecrets(res);
    });

    it('refreshes an expired token once and attaches the new one', async () => {
      clock += HOUR;
      const res = await request(app()).get('/macro').set('x-user', 'alice');
      expect(res.status).toBe(200);
      expect(seen[0]).toMatchObject({ accessToken: 'at-2', cloudId: 'cloud-1', expiresAt: clock + HOUR });
      expect(atlassian.tokenCalls()).toHaveLength(1);
      expectNoSecrets(res);
    });

    it('skips an anonymous request: no req.jira, no store read, no fetch, even with an expired token', async () => {
      clock += HOUR;
      const get = jest.spyOn(store, 'get');
      const res = await request(app()).get('/macro');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ connected: false, cloudId: null });
      expect(seen).toEqual([undefined]);
      expect(get).not.toHaveBeenCalled();
      expect(atlassian.calls).toEqual([]);
    });

    it('passes an error thrown by resolveUser to the error handler', async () => {
      const res = await request(
        app({
          resolveUser: () => {
            throw new RangeError('bad context');
          },
        }),
      ).get('/macro');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: 'RangeError' });
      expect(atlassian.calls).toEqual([]);
    });

    it('refuses a resolveUser that is not a function at creation', () => {
      expect(() =>
        manager.middleware({ resolveUser: 'alice' as unknown as MiddlewareOptions['resolveUser'] }),
      ).toThrow(TypeError);
    });
  });

  describe('the ACE resolver (jira-token-rotation/ace)', () => {
    /** Stands in for `addon.authenticate()`: sets ACE's `req.context` from headers. */
    const aceContext: RequestHandler = (req, _res, next) => {
      const clientKey = req.get('x-client-key');
      if (clientKey !== undefined) {
        (req as Request & { context?: unknown }).context = {
          clientKey,
          userAccountId: req.get('x-account-id'),
        };
      }
      next();
    };

    it("resolves the user from req.context's clientKey and userAccountId", async () => {
      const res = await request(app({ resolveUser: aceUserResolver }, aceContext))
        .get('/macro')
        .set('x-client-key', 'tenant-1')
        .set('x-account-id', 'alice');
      expect(res.status).toBe(200);
      expect(seen[0]).toMatchObject({ accessToken: 'at-1', cloudId: 'cloud-1' });
    });

    it('treats a context without userAccountId as anonymous', async () => {
      clock += HOUR;
      const res = await request(app({ resolveUser: aceUserResolver }, aceContext))
        .get('/macro')
        .set('x-client-key', 'tenant-1');
      expect(res.body).toEqual({ connected: false, cloudId: null });
      expect(atlassian.calls).toEqual([]);
    });

    it('treats a request without req.context as anonymous', async () => {
      const res = await request(app({ resolveUser: aceUserResolver }, aceContext)).get('/macro');
      expect(res.body).toEqual({ connected: false, cloudId: null });
      expect(atlassian.calls).toEqual([]);
    });

    it('does not cross tenants: the same account in another tenant is not connected', async () => {
      const res = await request(app({ resolveUser: aceUserResolver }, aceContext))
        .get('/macro')
        .set('x-client-key', 'tenant-2')
        .set('x-account-id', 'alice');
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'jira_reauthorization_required', reason: 'jira_not_connected' });
    });

    it('answers 400 for a verified identity the store cannot hold, and asks Atlassian nothing', async () => {
      for (const accountId of ['a'.repeat(513)]) {
        const res = await request(app({ resolveUser: aceUserResolver }, aceContext))
          .get('/macro')
          .set('x-client-key', 'tenant-1')
          .set('x-account-id', accountId);
        expect(res.status).toBe(400);
        expect(res.body).toEqual({ error: 'jira_invalid_user' });
      }
      expect(atlassian.calls).toEqual([]);
    });
  });

  it('the ACE resolver refuses a lone surrogate (a JWT claim can carry one as a JSON escape)', () => {
    const req = (accountId: string) =>
      ({ context: { clientKey: 't', userAccountId: accountId } }) as unknown as Request;
    expect(() => aceUserResolver(req('a\uD800'))).toThrow(InvalidUserError);
    expect(() => aceUserResolver(req('a\uDFFF'))).toThrow(InvalidUserError);
    expect(aceUserResolver(req('a\uD83D\uDE00'))).toEqual({ clientKey: 't', accountId: 'a\uD83D\uDE00' });
  });

  it("answers 400 when a custom resolver's user is malformed (a lone surrogate, empty, too long)", async () => {
    for (const accountId of ['alice\uD800', '', 'x'.repeat(513)]) {
      const res = await request(app({ resolveUser: () => ({ clientKey: 'tenant-1', accountId }) })).get(
        '/macro',
      );
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'jira_invalid_user' });
    }
    expect(atlassian.calls).toEqual([]);
  });

  it('refuses to build without resolveUser: a TypeError at start-up, not a 500 per request', () => {
    expect(() => manager.middleware(undefined as unknown as MiddlewareOptions)).toThrow(TypeError);
    expect(() => manager.middleware({} as MiddlewareOptions)).toThrow(/resolveUser/);
  });

  describe('consent required', () => {
    it('answers 401 jira_not_connected for a user who never connected', async () => {
      const res = await request(app()).get('/macro').set('x-user', 'bob');
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'jira_reauthorization_required', reason: 'jira_not_connected' });
      expect(seen).toEqual([]);
      expect(atlassian.calls).toEqual([]);
    });

    it('answers 401 jira_reauthorization_required when the token endpoint says invalid_grant', async () => {
      clock += HOUR;
      atlassian.tokenAnswer = () =>
        json(403, { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' });
      const res = await request(app()).get('/macro').set('x-user', 'alice');
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        error: 'jira_reauthorization_required',
        reason: 'jira_reauthorization_required',
      });
      expect(atlassian.tokenCalls()).toHaveLength(1);
      expectNoSecrets(res);
    });

    it('calls a custom onConsentRequired hook instead of answering', async () => {
      const onConsentRequired = jest.fn((error: JiraTokenError, _req: Request, res: ExpressResponse) => {
        res.redirect(302, `/connect-jira?reason=${error.code}`);
      });
      const res = await request(app({ resolveUser: headerUser, onConsentRequired }))
        .get('/macro')
        .set('x-user', 'bob');
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/connect-jira?reason=jira_not_connected');
      expect(onConsentRequired).toHaveBeenCalledTimes(1);
      expect(onConsentRequired.mock.calls[0][0]).toMatchObject({
        code: ErrorCodes.NOT_CONNECTED,
        status: 401,
      });
    });
  });

  describe('unavailable', () => {
    /** The manager again, without riding through: a failed attempt is answered at once. */
    async function withoutRideThrough(): Promise<void> {
      await manager.close();
      // Its own encryption key: alice connects again.
      await connectAlice({ rideThroughFailures: false });
    }

    it.each([
      ['a JSON 500', () => json(500, { error: 'server_error' })],
      ['an HTML 503', () => new Response('<html>Service Unavailable</html>', { status: 503 })],
    ])(
      'by default, rides through %s: the request waits for the next attempt and is served once the endpoint mends',
      async (_, answer) => {
        clock += HOUR;
        atlassian.tokenAnswer = answer;
        const pending = request(app())
          .get('/macro')
          .set('x-user', 'alice')
          .then((res) => res);
        // Both attempts failed, and the request waits rather than answering 503.
        await pollUntil(
          () => logger.debug.mock.calls.some(([entry]) => entry?.event === 'riding_through'),
          'the request rides through',
        );
        expect(atlassian.tokenCalls()).toHaveLength(DEFAULTS.tokenRequestAttempts);
        // The endpoint mends; the request's own retry is paced by inDoubtRetryMs on the shared clock.
        atlassian.tokenAnswer = undefined;
        clock += DEFAULTS.inDoubtRetryMs;
        const res = await pending;
        expect(res.status).toBe(200);
        expect(seen).toHaveLength(1);
        expect(seen[0]).toMatchObject({ accessToken: 'at-2', cloudId: 'cloud-1' });
        expect(atlassian.tokenCalls()).toHaveLength(DEFAULTS.tokenRequestAttempts + 1);
        expectNoSecrets(res);
      },
    );

    it('a burst riding through a rate-limited endpoint sends at most one token request per inDoubtRetryMs, and one rotation once it mends', async () => {
      clock += HOUR;
      atlassian.tokenAnswer = () => json(429, { error: 'too_many_requests' });
      const burst = Array.from({ length: 10 }, () =>
        request(app())
          .get('/macro')
          .set('x-user', 'alice')
          .then((res) => res),
      );
      const ridingThrough = (): number =>
        logger.debug.mock.calls.filter(([entry]) => entry?.event === 'riding_through').length;
      // A 429 did not rotate and is not retried at once: one token request, and the burst (one
      // load in this process, which its 10 requests share) waits rather than answering 503.
      await pollUntil(() => ridingThrough() === 1, 'the burst rides through');
      expect(atlassian.tokenCalls()).toHaveLength(1);
      // Each inDoubtRetryMs of the shared clock lets one more token request out, not one per request.
      clock += DEFAULTS.inDoubtRetryMs;
      await pollUntil(() => atlassian.tokenCalls().length === 2, 'the second token request');
      clock += DEFAULTS.inDoubtRetryMs;
      await pollUntil(() => atlassian.tokenCalls().length === 3, 'the third token request');
      // The endpoint mends: the next paced request rotates once, and the whole burst gets at-2.
      atlassian.tokenAnswer = undefined;
      clock += DEFAULTS.inDoubtRetryMs;
      const answers = await Promise.all(burst);
      expect(answers.map((res) => res.status)).toEqual(Array(10).fill(200));
      expect(seen.map((jira) => jira?.accessToken)).toEqual(Array(10).fill('at-2'));
      expect(atlassian.tokenCalls()).toHaveLength(4);
    });

    it.each([
      ['a JSON 500', () => json(500, { error: 'server_error' })],
      ['an HTML 503', () => new Response('<html>Service Unavailable</html>', { status: 503 })],
    ])(
      'with rideThroughFailures: false, answers 503 jira_upstream_unavailable with Retry-After when the token endpoint answers %s, after retrying it at once',
      async (_, answer) => {
        await withoutRideThrough();
        clock += HOUR;
        atlassian.tokenAnswer = answer;
        const res = await request(app()).get('/macro').set('x-user', 'alice');
        expect(res.status).toBe(503);
        // The server answered, so the exchange is over: no commit horizon, the holder retried at
        // once, and the 503 says to come back after the recovery interval.
        expect(res.headers['retry-after']).toBe('1');
        expect(res.body).toEqual({ error: 'jira_upstream_unavailable' });
        expect(seen).toEqual([]);
        expect(atlassian.tokenCalls()).toHaveLength(DEFAULTS.tokenRequestAttempts);
        expectNoSecrets(res);
      },
    );

    it.each([
      ['an HTML 502', () => new Response('<html>Bad Gateway</html>', { status: 502 })],
      ['an HTML 504', () => new Response('<html>Gateway Timeout</html>', { status: 504 })],
    ])(
      'answers 503 jira_upstream_unavailable with Retry-After up to the commit horizon when the token endpoint answers %s',
      async (_, answer) => {
        clock += HOUR;
        atlassian.tokenAnswer = answer;
        const res = await request(app()).get('/macro').set('x-user', 'alice');
        expect(res.status).toBe(503);
        // A gateway's upstream may still commit the request: nobody sends that refresh token
        // again before the commit horizon, which is when the 503 says to come back.
        expect(res.headers['retry-after']).toBe(String(DEFAULTS.commitHorizonMs / 1000));
        expect(res.body).toEqual({ error: 'jira_upstream_unavailable' });
        expect(seen).toEqual([]);
        expect(atlassian.tokenCalls()).toHaveLength(1);
        expectNoSecrets(res);
      },
    );

    it('answers 503 jira_client_credentials_rejected for invalid_client, and keeps the chain', async () => {
      clock += HOUR;
      atlassian.tokenAnswer = () => json(401, { error: 'invalid_client' });
      const res = await request(app()).get('/macro').set('x-user', 'alice');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body).toEqual({ error: 'jira_client_credentials_rejected' });
      expect(atlassian.tokenCalls()).toHaveLength(1);
      await expect(manager.status(alice)).resolves.toMatchObject({ state: 'active' });
      expectNoSecrets(res);
    });

    it.each([
      [
        'rejects',
        async () => {
          throw new Error('ECONNRESET talking to the store');
        },
      ],
      [
        'throws synchronously',
        () => {
          throw new Error('store exploded');
        },
      ],
    ])('answers 503 jira_store_unavailable, never 500, when store.get %s', async (_, failingGet) => {
      store.get = failingGet as MemoryTokenStore['get'];
      const res = await request(app()).get('/macro').set('x-user', 'alice');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toEqual({ error: 'jira_store_unavailable' });
      expect(atlassian.calls).toEqual([]);
    });

    it('calls a custom onUnavailable hook instead of answering', async () => {
      clock += HOUR;
      // A gateway's 502: no retry before the commit horizon, beyond any wait budget, so at once.
      atlassian.tokenAnswer = () => json(502, {});
      const onUnavailable = jest.fn((error: JiraTokenError, _req: Request, res: ExpressResponse) => {
        res.status(200).send(`retry in ${error.retryAfterSeconds}`);
      });
      const res = await request(app({ resolveUser: headerUser, onUnavailable }))
        .get('/macro')
        .set('x-user', 'alice');
      expect(res.status).toBe(200);
      expect(res.text).toBe(`retry in ${DEFAULTS.commitHorizonMs / 1000}`);
      expect(onUnavailable).toHaveBeenCalledTimes(1);
      expect(onUnavailable.mock.calls[0][0]).toMatchObject({
        code: ErrorCodes.UPSTREAM_UNAVAILABLE,
        status: 503,
      });
    });
  });

  describe('req.jira.fetch', () => {
    it('calls the gateway URL of the cloudId with the bearer token', async () => {
      const res = await request(app()).get('/myself').set('x-user', 'alice');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ accountId: 'alice-account', displayName: 'Alice' });
      expect(atlassian.calls).toEqual([{ url: MYSELF_URL, authorization: 'Bearer at-1' }]);
      expectNoSecrets(res);
    });

    it('on a 401, refreshes exactly once and retries once with the new token', async () => {
      atlassian.revoked.add('at-1');
      const res = await request(app()).get('/myself').set('x-user', 'alice');
      expect(res.status).toBe(200);
      expect(atlassian.calls).toEqual([
        { url: MYSELF_URL, authorization: 'Bearer at-1' },
        { url: TOKEN_URL, authorization: null },
        { url: MYSELF_URL, authorization: 'Bearer at-2' },
      ]);
      expectNoSecrets(res);
    });

    it('retries only once: a second 401 is returned as is', async () => {
      atlassian.revoked.add('at-1');
      atlassian.revoked.add('at-2');
      const res = await request(app()).get('/myself').set('x-user', 'alice');
      expect(res.status).toBe(401);
      expect(atlassian.tokenCalls()).toHaveLength(1);
      expect(atlassian.apiCalls()).toHaveLength(2);
      expectNoSecrets(res);
    });

    it('20 concurrent requests that all get a 401 for the same token cause exactly one token request', async () => {
      atlassian.revoked.add('at-1');
      atlassian.barrier = { size: 20, waiting: [] };
      const application = app();
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => request(application).get('/myself').set('x-user', 'alice')),
      );
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(atlassian.tokenCalls()).toHaveLength(1);
      const authorizations = atlassian.apiCalls().map((c) => c.authorization);
      expect(authorizations.filter((a) => a === 'Bearer at-1')).toHaveLength(20);
      expect(authorizations.filter((a) => a === 'Bearer at-2')).toHaveLength(20);
      expect(authorizations).toHaveLength(40);
      responses.forEach(expectNoSecrets);
    });

    it('refuses to run without a stored site, without calling anything', async () => {
      await manager.save(
        { clientKey: 'tenant-1', accountId: 'carol' },
        {
          access_token: 'at-3',
          refresh_token: 'rt-3',
          expires_in: 3600,
        },
      );
      const res = await request(app()).get('/myself').set('x-user', 'carol');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: 'TypeError' });
      expect(atlassian.calls).toEqual([]);
    });
  });
});

describe('jiraUrl', () => {
  it('builds the gateway URL', () => {
    expect(jiraUrl(API, 'cloud-1', '/rest/api/3/myself')).toBe(MYSELF_URL);
    expect(jiraUrl(`${API}//`, 'cloud-1', '/rest/api/3/search/jql?jql=project%3DABC')).toBe(
      `${API}/ex/jira/cloud-1/rest/api/3/search/jql?jql=project%3DABC`,
    );
  });

  it('keeps single dots in a path', () => {
    expect(jiraUrl(API, 'cloud-1', '/rest/api/3/search/jql?jql=text~"v1.2"')).toBe(
      `${API}/ex/jira/cloud-1/rest/api/3/search/jql?jql=text~%22v1.2%22`,
    );
  });

  it('encodes the cloudId', () => {
    expect(jiraUrl(API, 'a/b?c', '/x')).toBe(`${API}/ex/jira/a%2Fb%3Fc/x`);
  });

  it.each([
    ['an absolute URL', 'https://evil.example/x'],
    ['a protocol-relative URL', '//evil'],
    ['a protocol-relative URL with a path', '//evil.example/rest/api/3/myself'],
    ['a relative path', 'rest/api/3/myself'],
    ['an empty path', ''],
    ['a parent segment', '/rest/../../../me'],
    ['a trailing parent segment', '/rest/api/3/..'],
    // WHATWG URL parsing turns %2e%2e, .%2e and %2e. into '..': these would leave /ex/jira/{cloudId}.
    ['an encoded parent segment', '/rest/%2e%2e/%2e%2e/%2e%2e/me'],
    ['a half-encoded parent segment', '/rest/.%2E/.%2e/x'],
    [
      'an uppercase encoded parent segment',
      '/rest/%2E%2E/%2E%2E/%2E%2E/%2E%2E/oauth/token/accessible-resources',
    ],
    ['a newline', '/rest/api/3/myself\nHost: evil.example'],
    ['a carriage return', '/rest/api/3/myself\r'],
  ])('refuses %s', (_, path) => {
    expect(() => jiraUrl(API, 'cloud-1', path)).toThrow(TypeError);
  });

  it('refuses a path that is not a string', () => {
    expect(() => jiraUrl(API, 'cloud-1', 42 as unknown as string)).toThrow(TypeError);
  });

  it.each([undefined, ''])('refuses a missing cloudId (%p)', (cloudId) => {
    expect(() => jiraUrl(API, cloudId, '/rest/api/3/myself')).toThrow(TypeError);
  });
});
