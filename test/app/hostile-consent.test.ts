// Property: whatever reaches the consent routes (forged, tampered, truncated, replayed, expired,
// oversized or non-ASCII launch tokens; unknown, truncated or repeated OAuth states; any `code`,
// `error`, `error_description`, cookie), nothing crashes, the answer is the right 4xx page, nothing
// is stored, no token request reaches the simulator for a bad state, a state works once, and no
// state, code or launch token is shown or logged.

import fc from 'fast-check';
import type request from 'supertest';
import { type TestApp, USER, nonceCookie, resultOf, startTestApp } from './helpers';

/** Query values a browser (or an attacker) can put in a URL: any text, long or short, repeated. */
const text = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 32 }),
  fc.constantFrom(
    '',
    ' ',
    'null',
    'undefined',
    '[]',
    '{}',
    '%00',
    '\u0000',
    '\r\nSet-Cookie: x=1',
    'é'.repeat(500),
  ),
  fc.integer({ min: 1, max: 6 }).map((kb) => 'x'.repeat(kb * 1024)),
);
/** A parameter: absent, once, twice (an array), or nested (an object, `name[key]=`). */
const param = fc.oneof(
  fc.constant(undefined),
  text.map((value) => ({ once: value })),
  fc.tuple(text, text).map(([a, b]) => ({ twice: [a, b] as const })),
  text.map((value) => ({ nested: value })),
);
type Param =
  fc.Arbitrary<typeof param extends fc.Arbitrary<infer T> ? T : never> extends fc.Arbitrary<infer U>
    ? U
    : never;

function appendParam(params: string[], name: string, value: Param): void {
  if (value === undefined) return;
  const encode = encodeURIComponent;
  if ('once' in value) params.push(`${name}=${encode(value.once)}`);
  else if ('twice' in value)
    params.push(`${name}=${encode(value.twice[0])}`, `${name}=${encode(value.twice[1])}`);
  else params.push(`${encode(`${name}[k]`)}=${encode(value.nested)}`);
}

/** Every value a parameter carries. */
function valuesOf(value: Param): string[] {
  if (value === undefined) return [];
  return 'once' in value ? [value.once] : 'twice' in value ? [...value.twice] : [value.nested];
}

describe('hostile consent input', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { CONNECT_RATE_LIMIT: '1000000' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const user = () => ({ clientKey: t.tenant.clientKey, accountId: USER });
  const nothingStored = async () => {
    expect(await t.running.tokens.status(user())).toBeNull();
    expect((await t.stats()).codeExchanges).toBe(0);
  };
  /** The values that must not be shown (and, for those the app saw, logged). */
  const expectNotShownOrLogged = (res: request.Response, logged: number, values: string[]) => {
    const shown = `${JSON.stringify(res.headers)}\n${res.text}`;
    const logs = t.logger.entries
      .slice(logged)
      .map((e) => `${e.msg ?? ''} ${JSON.stringify(e.obj)}`)
      .join('\n');
    for (const value of values.filter((v) => v.length >= 16)) {
      expect(shown).not.toContain(value);
      expect(logs).not.toContain(value);
    }
  };
  /** A consent started through the routes: its state and the popup's cookie. */
  const start = async () => {
    const started = await t
      .http()
      .post('/jira/connect')
      .type('form')
      .send({ launch: t.running.launches.issue(user()) })
      .expect(303);
    const state = new URL(started.headers.location as string).searchParams.get('state')!;
    return { state, cookie: nonceCookie(started) };
  };

  test('a callback with an unknown state: 400 "expired", no token request, nothing stored', async () => {
    const { state: real } = await start();
    const badState = fc.oneof(
      param,
      // Near misses of a real state: truncated, extended, one character changed, case changed.
      fc
        .constantFrom(
          real.slice(0, -1),
          `${real}x`,
          `${real[0] === 'A' ? 'B' : 'A'}${real.slice(1)}`,
          real.toUpperCase() === real ? real.toLowerCase() : real.toUpperCase(),
          ` ${real}`,
        )
        .map((once) => ({ once })),
    );
    const before = await t.stats();
    await fc.assert(
      fc.asyncProperty(
        badState,
        param,
        param,
        param,
        fc.option(fc.constantFrom('jtr-consent=forged', 'jtr-consent=', 'jtr-consent', 'other=1')),
        async (state, code, error, description, cookie) => {
          const params: string[] = [];
          appendParam(params, 'state', state);
          appendParam(params, 'code', code);
          appendParam(params, 'error', error);
          appendParam(params, 'error_description', description);
          const logged = t.logger.entries.length;
          const url = `/jira/callback?${params.join('&')}`;
          // Longer URLs are Node's to refuse (431, test/app/body-limits.test.ts), not the app's.
          fc.pre(url.length < 12 * 1024);
          const req = t.http().get(url);
          const res = await (cookie ? req.set('cookie', cookie) : req);
          expect(res.status).toBe(400);
          expect(resultOf(res.text)).toBe('expired');
          // `error` and its description are not secret (they are logged): a code inside one is not checked.
          const open = [...valuesOf(error), ...valuesOf(description)];
          const values = [...valuesOf(state), ...valuesOf(code)].filter(
            (v) => !open.some((o) => o.includes(v)),
          );
          expectNotShownOrLogged(res, logged, values);
        },
      ),
      { numRuns: 200 },
    );
    // Not one token request: a bad state never reaches Atlassian.
    expect((await t.stats()).tokenRequests).toBe(before.tokenRequests);
    await nothingStored();
  }, 60_000);

  test('a valid state with any code, error or description: the right page, and the state works once', async () => {
    await fc.assert(
      fc.asyncProperty(param, param, param, async (code, error, description) => {
        const params: string[] = [];
        appendParam(params, 'code', code);
        appendParam(params, 'error', error);
        appendParam(params, 'error_description', description);
        fc.pre(params.join('&').length < 12 * 1024);
        const { state, cookie } = await start();
        const path = `/jira/callback?${[`state=${encodeURIComponent(state)}`, ...params].join('&')}`;
        const before = await t.stats();
        const logged = t.logger.entries.length;
        const res = await t.http().get(path).set('cookie', cookie);
        // Any `error` is a denial; else only a single non-empty `code` is sent to Atlassian, which
        // knows no such code.
        const sendsCode = error === undefined && code !== undefined && 'once' in code && code.once !== '';
        const expected =
          error !== undefined
            ? { status: 200, result: 'denied' }
            : sendsCode
              ? { status: 400, result: 'code_rejected' }
              : { status: 400, result: 'expired' };
        expect({ status: res.status, result: resultOf(res.text) }).toEqual(expected);
        expect((await t.stats()).tokenRequests - before.tokenRequests).toBe(sendsCode ? 1 : 0);
        const open = [...valuesOf(error), ...valuesOf(description)];
        const values = [state, ...valuesOf(code)].filter((v) => !open.some((o) => o.includes(v)));
        expectNotShownOrLogged(res, logged, values);
        // The state is spent, whatever happened: a replay is refused with no token request.
        const replay = await t.http().get(path).set('cookie', cookie);
        expect({ status: replay.status, result: resultOf(replay.text) }).toEqual({
          status: 400,
          result: 'expired',
        });
        expect((await t.stats()).tokenRequests - before.tokenRequests).toBe(sendsCode ? 1 : 0);
        await nothingStored();
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  test('forged, tampered, truncated, expired and replayed launch tokens: 400, no state, no cookie', async () => {
    const issued = t.running.launches.issue(user());
    const [version, payload, mac] = issued.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const rewrite = (changes: Record<string, unknown>) =>
      `${version}.${Buffer.from(JSON.stringify({ ...claims, ...changes })).toString('base64url')}.${mac}`;
    const spent = t.running.launches.issue(user());
    await t.http().post('/jira/connect').type('form').send({ launch: spent }).expect(303);
    const forged = fc.oneof(
      param,
      fc
        .constantFrom(
          issued.slice(0, -1),
          issued.slice(0, issued.length / 2),
          `${issued}.x`,
          `v2.${payload}.${mac}`,
          `${version}.${payload}.`,
          `${version}..${mac}`,
          spent,
        )
        .map((once) => ({ once })),
      // Another tenant's or user's launch, made by rewriting the claims under the same MAC.
      fc
        .record(
          { c: fc.string({ unit: 'grapheme' }), a: fc.string({ unit: 'grapheme' }), e: fc.integer() },
          { requiredKeys: [] },
        )
        .filter((changes) => Object.entries(changes).some(([k, v]) => claims[k] !== v))
        .map((changes) => ({ once: rewrite(changes) })),
      // A valid-looking token of the right shape, under a key the attacker made up.
      fc.string({ minLength: 1 }).map((n) => ({
        once: `${version}.${Buffer.from(JSON.stringify({ ...claims, n })).toString('base64url')}.${mac}`,
      })),
    );
    await fc.assert(
      fc.asyncProperty(forged, fc.constantFrom('form', 'json'), async (launch, encoding) => {
        const params: string[] = [];
        appendParam(params, 'launch', launch);
        const logged = t.logger.entries.length;
        const req = t.http().post('/jira/connect');
        const res =
          encoding === 'form'
            ? await req.type('form').send(params.join('&'))
            : await req.send(
                launch === undefined
                  ? {}
                  : 'once' in launch
                    ? { launch: launch.once }
                    : 'twice' in launch
                      ? { launch: launch.twice }
                      : { launch: { k: launch.nested } },
              );
        expect(res.status).toBe(400);
        expect(resultOf(res.text)).toBe('expired');
        expect(res.headers['set-cookie']).toBeUndefined();
        expect(res.headers.location).toBeUndefined();
        const values = launch && 'once' in launch ? [launch.once] : [];
        expectNotShownOrLogged(res, logged, values);
      }),
      { numRuns: 200 },
    );
    // An unused launch token expires after 60 seconds of the app's clock.
    const late = t.running.launches.issue(user());
    t.travel(60_000);
    const res = await t.http().post('/jira/connect').type('form').send({ launch: late });
    expect(resultOf(res.text)).toBe('expired');
    expect(t.logger.entries.filter((e) => e.level === 'error')).toEqual([]);
    await nothingStored();
  }, 60_000);
});
