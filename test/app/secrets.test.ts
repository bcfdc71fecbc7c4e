// Invariant 6 for the app: no token, code, state, launch token, shared secret or Connect JWT in
// its logs, its pages or the URLs it builds (but the OAuth redirect's own state).

import type request from 'supertest';
import { HOUR, type TestApp, USER, startTestApp } from './helpers';

describe('no secrets out', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  test('a consent, a burst after expiry, a failure and a disconnect leak nothing', async () => {
    const responses: request.Response[] = [];
    const keep = async (pending: Promise<request.Response>) => {
      const res = await pending;
      responses.push(res);
      return res;
    };
    const run = await t.connect(USER);
    responses.push(run.result);
    await keep(t.macro(USER));
    await t.advance(HOUR + 1);
    for (const res of await Promise.all(Array.from({ length: 5 }, () => t.macro(USER)))) responses.push(res);
    await t.advance(HOUR + 1);
    t.running.sim!.scriptOutcomes(['drop_after_commit', 'drop_after_commit']);
    await keep(t.macro(USER));
    const token = t.contextToken(USER);
    await keep(t.http().get('/jira/status').set('authorization', `JWT ${token}`));
    await keep(t.http().post('/jira/disconnect').set('authorization', `JWT ${token}`));
    await keep(t.http().get(run.callbackPath).set('cookie', run.cookie));

    const installation = (await t.running.addon.settings.get('clientInfo', t.tenant.clientKey)) as {
      sharedSecret: string;
    };
    const secrets = new Map<string, string>([
      ['launch token', run.launch],
      ['state', run.state],
      ['code', run.code!],
      ['shared secret', installation.sharedSecret],
      ['context JWT', token],
    ]);
    for (const secret of t.probe.secrets) secrets.set(`token ${secret.slice(0, 4)}…`, secret);
    expect(t.probe.secrets.size).toBeGreaterThanOrEqual(4);

    // The lines exactly as the app's pino logger wrote them.
    const logs = t.logLines.join('');
    const pages = responses.map((res) => `${JSON.stringify(res.headers)}\n${res.text}`).join('\n');
    const leaks = [...secrets]
      .filter(([, value]) => logs.includes(value) || pages.includes(value))
      .map(([name]) => name);
    expect(leaks).toEqual([]);
    expect(logs).not.toMatch(/eyJ[\w-]*\.[\w-]*\.[\w-]*/);
    expect(pages).not.toMatch(/eyJ[\w-]*\.[\w-]*\.[\w-]*/);
    // The request log has the lines, with the secret parameters blanked.
    const urls = t.logger.events('request').map((e) => (e.obj.req as { url: string }).url);
    expect(urls).toContainEqual(expect.stringMatching(/^\/jira\/callback\?code=redacted&state=redacted$/));
    expect(urls).toContainEqual(expect.stringMatching(/^\/macro\/jira-issues\?.*jwt=redacted/));
  });

  test('the authorize redirect carries the state and nothing else secret', async () => {
    const launch = (
      await t
        .http()
        .post('/jira/launch')
        .set('authorization', `JWT ${t.contextToken(USER)}`)
        .expect(200)
    ).body.launch as string;
    const started = await t.http().post('/jira/connect').type('form').send({ launch }).expect(303);
    expect(started.text).toBe('');
    const location = started.headers.location as string;
    expect(location).not.toContain(launch);
    expect([...new URL(location).searchParams.keys()].sort()).toEqual(
      ['audience', 'client_id', 'prompt', 'redirect_uri', 'response_type', 'scope', 'state'].sort(),
    );
    const cookie = (started.headers['set-cookie'] as unknown as string[])[0];
    expect(cookie).toMatch(
      /^jtr-consent=[\w-]{43}; Max-Age=600; Path=\/jira\/; Expires=.*; HttpOnly; SameSite=Lax$/,
    );
  });
});
