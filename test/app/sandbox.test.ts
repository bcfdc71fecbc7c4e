// The sandbox: its host page frames N signed macros from the app's other origin, and a browser
// that loads them (scripted here) after the token expired sees N tables for one rotation.

import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { startApp } from '../../app';
import { loadConfig } from '../../app/config';
import { followRealTime } from '../../app/sim-clock';
import { pinoCapture } from '../support/pino-capture';
import {
  HOUR,
  REDIS_URL,
  type TestApp,
  USER,
  attributes,
  deleteKeys,
  issueKeys,
  pathOf,
  startTestApp,
  stateOf,
} from './helpers';

function iframeSources(html: string): string[] {
  return attributes(html, 'src').filter((src) => src.includes('/macro/jira-issues?'));
}

describe('the sandbox', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  test('/sandbox?macros=30: after the token expired, 30 iframes give 30 issue tables for one rotation', async () => {
    await t.connect(USER);
    await t.advance(HOUR + 1);
    const page = await t.http().get('/sandbox?macros=30').expect(200);
    const sources = iframeSources(page.text);
    expect(sources).toHaveLength(30);
    for (const src of sources) {
      // Another origin than the page: the browser isolates the macros as Confluence's would be.
      expect(new URL(src).origin).toBe(t.running.urls.localBaseUrl);
      expect(new URL(src).searchParams.get('xdm_e')).toBe(t.running.urls.sandboxOrigin);
    }
    const macros = await Promise.all(sources.map((src) => t.http().get(pathOf(src))));
    expect(macros.map((m) => m.status)).toEqual(Array(30).fill(200));
    expect(macros.map((m) => issueKeys(m.text).length)).toEqual(Array(30).fill(5));
    expect(await t.stats()).toMatchObject({ rotations: 1, revocations: 0, invalidGrant: 0 });
  });

  test('the host page is on its own origin, framing only the app, never framed or cached itself', async () => {
    const page = await t.http().get('/sandbox?macros=2').expect(200);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toContain(`frame-src ${t.running.urls.localBaseUrl}`);
    expect(attributes(page.text, 'src')).toContain('/public/sandbox-host.js');
    expect(page.text.startsWith('<!doctype html>')).toBe(true);
    const onAppOrigin = await t
      .http()
      .get('/sandbox?macros=2')
      .set('host', new URL(t.running.urls.localBaseUrl).host)
      .expect(302);
    expect(onAppOrigin.headers.location).toBe(`${t.running.urls.sandboxOrigin}/sandbox?macros=2`);
  });

  test('macro count and user are bounded', async () => {
    expect(iframeSources((await t.http().get('/sandbox?macros=500').expect(200)).text)).toHaveLength(100);
    expect(iframeSources((await t.http().get('/sandbox').expect(200)).text)).toHaveLength(3);
    await t.http().get('/sandbox?user=nobody').expect(400);
    const anonymous = iframeSources(
      (await t.http().get('/sandbox?macros=1&user=anonymous').expect(200)).text,
    );
    expect(stateOf((await t.http().get(pathOf(anonymous[0]))).text)).toBe('neutral');
  });

  test("the macro page loads the AP stand-in from the app's origin, then the consent helper and the macro script", async () => {
    const [src] = iframeSources((await t.http().get('/sandbox?macros=1').expect(200)).text);
    const macro = await t.http().get(pathOf(src)).expect(200);
    const scripts = attributes(macro.text, 'src');
    expect(scripts).toEqual([
      `${t.running.urls.localBaseUrl}/public/sandbox-ap.js`,
      '/jira/consent.js',
      '/public/macro.js',
    ]);
    for (const file of ['sandbox-ap.js', 'macro.js', 'sandbox-host.js', 'app.css']) {
      await t.http().get(`/public/${file}`).expect(200);
    }
    // The consent router's browser helper, which macro.js connects Jira through.
    const helper = await t.http().get('/jira/consent.js').expect(200);
    expect(helper.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(helper.text).toContain('JiraConsent');
  });

  test("context tokens: what AP.context.getToken() returns, and ACE's checkValidToken() accepts", async () => {
    const res = await t.http().post('/sandbox/context-token').send({ user: USER }).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const token = (res.body as { token: string }).token;
    await t.http().get('/jira/status').set('authorization', `JWT ${token}`).expect(200);
    // Only JSON (a cross-site form cannot post it without a CORS preflight), only known users.
    await t.http().post('/sandbox/context-token').type('form').send({ user: USER }).expect(403);
    await t.http().post('/sandbox/context-token').send({ user: 'nobody' }).expect(400);
  });
});

describe('outside the sandbox', () => {
  test('with Atlassian credentials: Atlassian endpoints, Redis, HSTS; no simulator, no sandbox page', async () => {
    const keyPrefix = `jtr-app-test:${randomUUID()}:`;
    const running = await startApp(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        ATLASSIAN_CLIENT_ID: 'client-id',
        ATLASSIAN_CLIENT_SECRET: 'client-secret',
        AC_LOCAL_BASE_URL: 'https://app.example.com',
        REDIS_URL,
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        REDIS_KEY_PREFIX: keyPrefix,
      }),
      { logger: pinoCapture().logger },
    );
    try {
      const http = () => request(running.urls.internalBaseUrl);
      await http().get('/sandbox').expect(404);
      await http().get('/sim/stats').expect(404);
      const descriptor = await http().get('/atlassian-connect.json').expect(200);
      expect(descriptor.body).toMatchObject({ baseUrl: 'https://app.example.com', key: 'jira-issues' });
      expect(running.endpoints).toMatchObject({
        authorizeUrl: 'https://auth.atlassian.com/authorize',
        tokenUrl: 'https://auth.atlassian.com/oauth/token',
        apiBaseUrl: 'https://api.atlassian.com',
        hostScriptUrl: 'https://connect-cdn.atl-paas.net/all.js',
      });
      expect((await http().get('/healthz').expect(200)).headers['strict-transport-security']).toBe(
        'max-age=31536000; includeSubDomains',
      );
      expect((await http().get('/readyz').expect(200)).body).toEqual({ status: 'ready' });
    } finally {
      await running.close();
      await deleteKeys(keyPrefix);
    }
  });
});

describe('followRealTime', () => {
  test('moves the simulator clock by the real time that passed, at each tick', () => {
    jest.useFakeTimers();
    try {
      let real = 1_000;
      const advanced: number[] = [];
      const stop = followRealTime(
        { now: () => 0, advance: (ms) => advanced.push(ms), set: () => undefined },
        1_000,
        () => real,
      );
      real += 1_500;
      jest.advanceTimersByTime(1_000);
      real += 700;
      jest.advanceTimersByTime(1_000);
      stop();
      jest.advanceTimersByTime(5_000);
      expect(advanced).toEqual([1_500, 700]);
    } finally {
      jest.useRealTimers();
    }
  });
});
