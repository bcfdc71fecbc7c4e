// Health endpoints, the 404 and the error handler.

import { StoreUnavailableError } from 'jira-token-rotation';
import { sample } from '../support/prom-text';
import { HOUR, type TestApp, USER, startTestApp } from './helpers';

describe.each([
  ['memory', false],
  ['redis', true],
] as const)('health (%s)', (_name, redis) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({ redis });
  });
  afterEach(async () => {
    await t.close();
  });

  test('/healthz and /readyz answer, never cached', async () => {
    const health = await t.http().get('/healthz').expect(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await t.http().get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'ready' });
    expect(ready.headers['cache-control']).toBe('no-store');
  });

  test('/metrics: the token metrics and process metrics of this process, never cached', async () => {
    await t.connect(USER);
    await t.advance(HOUR + 1);
    await Promise.all([t.macro(USER), t.macro(USER)]);
    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('# TYPE jira_token_rotations_total counter\n');
    expect(sample(res.text, 'jira_token_rotations_total{outcome="rotated"}')).toBe(1);
    expect(sample(res.text, 'jira_token_rotations_total{outcome="in_doubt"}')).toBe(0);
    // prom-client's default process metrics come with them.
    expect(sample(res.text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(res.text).not.toContain(USER);
    expect(res.text).not.toContain(t.tenant.clientKey);
  });

  test('unknown paths are a plain 404; a malformed body a plain 400', async () => {
    const missing = await t.http().get('/nope?jwt=abc').expect(404);
    expect(missing.text).toBe('Not Found');
    const bad = await t.http().post('/installed').set('content-type', 'application/json').send('{"broken');
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('Bad Request');
  });
});

describe('failures', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  test('a token store failure is a 503 with Retry-After; a bug a plain 500, logged by name only', async () => {
    const token = t.contextToken(USER);
    t.running.tokens.disconnect = async () => {
      throw new StoreUnavailableError('Redis is down', 7);
    };
    const unavailable = await t.http().post('/jira/disconnect').set('authorization', `JWT ${token}`);
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers['retry-after']).toBe('7');
    expect(unavailable.text).toBe('The app could not answer; try again later');
    t.running.tokens.status = async () => {
      throw new Error(`bug with ${token}`);
    };
    const bug = await t.http().get('/jira/status').set('authorization', `JWT ${token}`);
    expect(bug.status).toBe(500);
    expect(bug.text).toBe('The app could not answer; try again later');
    expect(t.logger.events('request_failed').map((e) => e.obj)).toEqual([
      {
        event: 'request_failed',
        url: '/jira/disconnect',
        err: 'StoreUnavailableError',
        errorCode: 'jira_store_unavailable',
      },
      { event: 'request_failed', url: '/jira/status', err: 'Error', errorCode: undefined },
    ]);
    expect(t.logger.text()).not.toContain(token);
  });

  test("ACE's installation store failing is a 503, not a 401", async () => {
    t.running.addon.settings.get = async () => {
      throw new Error('store down');
    };
    const res = await t.macro(USER);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
  });
});
