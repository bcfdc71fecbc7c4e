// Property: whatever the token endpoint answers (malformed JSON, HTML error pages, huge bodies,
// wrong types, missing or negative expires_in, empty strings, errors that echo the request, broken
// connections), nothing crashes, nothing from a bad answer is stored, and no secret reaches a
// response, an error or a log line. Embedded configuration, then once more on Redis.

import express from 'express';
import fc from 'fast-check';
import request from 'supertest';
import Redis from 'ioredis';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  DEFAULTS,
  ErrorCodes,
  JiraTokenError,
  type TokenManager,
  type TokenManagerOptions,
  createTokenManager,
  fingerprint,
} from 'jira-token-rotation';
import { captureLogger } from '../../support/capture-logger';
import {
  CLIENT_SECRET,
  FakeTokenEndpoint,
  type HostileAnswer,
  MARK,
  hostileAnswer,
  usableAccessToken,
} from '../support/hostile-token-answers';
import { REDIS_URL } from '../support/manager-harness';

const HOUR = 3_600_000;
const clientKey = `hostile-${randomUUID()}`;

/** The manager as the middleware sees it, except that its rejections are also kept for inspection. */
function observing(manager: TokenManager, caught: unknown[]): TokenManager {
  // The middleware calls getAccessToken on the object it was made from; everything else is the manager's.
  return Object.create(manager, {
    getAccessToken: {
      value: (...args: Parameters<TokenManager['getAccessToken']>) =>
        manager.getAccessToken(...args).catch((error: unknown) => {
          caught.push(error);
          throw error;
        }),
    },
  }) as TokenManager;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause =
    error.cause instanceof Error ? `${error.cause.name} ${error.cause.message}` : String(error.cause);
  return `${error.name} ${error.message} ${JSON.stringify(error)} ${cause}`;
}

async function checkProperty(options: Partial<TokenManagerOptions>, numRuns: number): Promise<void> {
  const fake = new FakeTokenEndpoint();
  const logger = captureLogger();
  let now = Date.UTC(2026, 0, 1);
  const manager = createTokenManager({
    clientId: 'hostile-client',
    clientSecret: CLIENT_SECRET,
    tokenUrl: 'https://auth.example.test/oauth/token',
    fetch: fake.fetch,
    now: () => now,
    logger,
    // One request per rotation: the hostile answer is the whole outcome of the first one.
    tokenRequestAttempts: 1,
    // The answer is the subject, so each request answers with its outcome at once; waiting for a
    // recovery after a failed answer (the default) is covered in late-commit and the middleware tests.
    rideThroughFailures: false,
    recoveryIntervalMs: 0,
    ...options,
  });
  const caught: unknown[] = [];
  const unexpected: unknown[] = [];
  const app = express();
  app.get(
    '/jira',
    observing(manager, caught).middleware({
      resolveUser: (req) => ({ clientKey, accountId: String(req.headers['x-account']) }),
    }),
    (req, res) => void res.json({ token: fingerprint(req.jira!.accessToken) }),
  );
  // Whatever is not a JiraTokenError ends here: a 500, and a failed property.
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    unexpected.push(error);
    res.status(500).end();
  });

  try {
    await fc.assert(
      fc.asyncProperty(hostileAnswer, async (answer: HostileAnswer) => {
        const user = { clientKey, accountId: `user-${randomUUID()}` };
        const { tokens, chain } = fake.consent(answer);
        await manager.save(user, tokens);
        const logged = logger.entries.length;
        caught.length = 0;
        now += HOUR + 1; // expired: the next request rotates, and meets the hostile answer

        const response = await request(app).get('/jira').set('x-account', user.accountId);
        await manager.whenIdle();
        expect(unexpected).toEqual([]);
        expect(`${JSON.stringify(response.headers)} ${response.text}`).not.toContain(MARK);
        const usable = usableAccessToken(answer);
        if (usable) {
          // The one acceptable answer: its access token is served; the old refresh token is kept.
          expect(response.status).toBe(200);
          expect(response.body).toEqual({ token: fingerprint(usable) });
        } else {
          expect(response.status).toBe(503);
          expect(response.headers['retry-after']).toMatch(/^[1-9]\d*$/);
          expect([ErrorCodes.UPSTREAM_UNAVAILABLE, ErrorCodes.CLIENT_CREDENTIALS_REJECTED]).toContain(
            response.body.error,
          );
          expect(caught).toHaveLength(1);
          expect(caught[0]).toBeInstanceOf(JiraTokenError);
          expect(errorText(caught[0])).not.toContain(MARK);
        }

        // The endpoint behaves again. The next rotation carries the ORIGINAL refresh token: nothing
        // from the hostile answer was stored (a usable answer's recovery already ran, behind it).
        // Past the commit horizon of a request that may still commit (a reset, a 5xx), and past
        // the pacing of request-driven retries of a chain in doubt.
        now += DEFAULTS.commitHorizonMs + 10_000;
        const next = await manager.getAccessToken(user);
        expect(chain.received).toEqual([tokens.refresh_token, tokens.refresh_token]);
        expect(next.accessToken).toBe(chain.accessToken);
        expect((await manager.status(user))?.state).toBe('active');
        // And the chain goes on from the refresh token that good answer brought.
        now += HOUR + 1;
        expect((await manager.getAccessToken(user)).accessToken).toBe(chain.accessToken);
        expect(chain.received).toHaveLength(3);
        expect(fake.violations).toEqual([]);

        const logText = logger.entries
          .slice(logged)
          .map(
            (e) =>
              `${e.msg ?? ''} ${JSON.stringify(e.obj, (_k, v: unknown) => (v instanceof Error ? errorText(v) : v))}`,
          )
          .join('\n');
        expect(logText).not.toContain(MARK);
        expect(logText).not.toContain(CLIENT_SECRET);
      }),
      {
        numRuns,
        // Always tried, whatever the seed: a refusal whose `error` echoes the refresh token.
        examples: [[{ kind: 'http', status: 400, body: '{"error":"{{RT}}"}', declareLength: false }]],
      },
    );
  } finally {
    await manager.close();
  }
}

test('embedded: hostile token-endpoint answers are never stored, never crash, never leak', async () => {
  await checkProperty({}, 200);
}, 60_000);

test('Redis: the same, with records in Redis and the redlock lock', async () => {
  const keyPrefix = `jtr-test:${randomUUID()}:`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    await checkProperty({ redis, keyPrefix, encryptionKey: randomBytes(32).toString('base64') }, 60);
  } finally {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  }
}, 60_000);
