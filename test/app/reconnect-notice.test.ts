// "Reconnect Jira soon": keep-alive keeps a chain alive for its whole year, the macro asks the
// user to reconnect in the family's last 14 days (issues still shown), a reconnect starts a new
// year, and past Atlassian's 365-day limit the macro offers to reconnect, not an error page.

import { type TestApp, USER, attributes, issueKeys, startTestApp, stateOf } from './helpers';

const DAY = 24 * 3_600_000;
const NOTICE = 'reconnect-soon';

/** The page's notices (`data-notice`). */
const noticesOf = (html: string): string[] => attributes(html, 'data-notice');

describe('the "Reconnect Jira soon" notice', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  /** Moves the sim clock `days` forward in steps of 10 days, running a keep-alive sweep after each. */
  const liveThrough = async (days: number): Promise<void> => {
    for (let done = 0; done < days; done += 10) {
      await t.advance(Math.min(10, days - done) * DAY);
      expect((await t.running.tokens.keepAlive()).failed).toBe(0);
    }
  };

  test('a fresh connection shows issues and no notice', async () => {
    await t.connect(USER);
    const page = await t.macro(USER);
    expect(page.status).toBe(200);
    expect(stateOf(page.text)).toBe('ready');
    expect(noticesOf(page.text)).toEqual([]);
    expect(page.text).not.toContain('Reconnect Jira soon');
    // The notice is asked for once per access token: later pages stay free of store reads.
    const reads = t.running.tokens.stats().storeReads;
    await Promise.all([t.macro(USER), t.macro(USER)]);
    expect(t.running.tokens.stats().storeReads).toBe(reads);
  });

  test('360 days after consent, kept alive: issues plus the notice with a reconnect button; a reconnect clears it', async () => {
    await t.connect(USER);
    const consentAt = t.running.sim!.clock.now();
    await liveThrough(350);
    // 15 days before the end: still no notice.
    expect(noticesOf((await t.macro(USER)).text)).toEqual([]);

    await liveThrough(10);
    const page = await t.macro(USER);
    expect(page.status).toBe(200);
    expect(stateOf(page.text)).toBe('ready');
    expect(issueKeys(page.text)).toHaveLength(5);
    expect(noticesOf(page.text)).toEqual([NOTICE]);
    expect(page.text).toContain('Reconnect Jira soon');
    const endsOn = new Date(consentAt + 365 * DAY).toISOString().slice(0, 10);
    expect(attributes(page.text, 'datetime')).toEqual([endsOn]);
    // The notice's button starts the same connect flow as the connect view's (public/macro.js).
    expect(attributes(page.text, 'data-action')).toEqual(['connect', 'disconnect']);
    // Kept alive by the sweeper (days 40, 80, … 320), plus the two pages' own refreshes (days 350
    // and 360, their access tokens having expired): not a single refused token all year.
    expect(t.running.tokens.stats().keepAliveRotations).toBe(8);
    expect(await t.stats()).toMatchObject({ rotations: 10, revocations: 0, invalidGrant: 0 });
    const polled = await t
      .http()
      .get('/jira/status')
      .set('authorization', `JWT ${t.contextToken(USER)}`)
      .expect(200);
    expect(polled.body).toMatchObject({ connected: true, reconnectSoon: true });

    // Reconnecting starts a new family: the notice goes away.
    await t.connect(USER);
    const renewed = await t.macro(USER);
    expect(stateOf(renewed.text)).toBe('ready');
    expect(noticesOf(renewed.text)).toEqual([]);
    const after = await t
      .http()
      .get('/jira/status')
      .set('authorization', `JWT ${t.contextToken(USER)}`)
      .expect(200);
    expect(after.body.reconnectSoon).toBeUndefined();
  });

  test("past Atlassian's 365-day limit the macro asks to reconnect (not an error page), and a reconnect works", async () => {
    await t.connect(USER);
    await liveThrough(360);
    expect(noticesOf((await t.macro(USER)).text)).toEqual([NOTICE]);
    await t.advance(6 * DAY);
    // The family has ended (invalid_grant at the sim): the connect view, in its reconnect form.
    const page = await t.macro(USER);
    expect(page.status).toBe(200);
    expect(stateOf(page.text)).toBe('reconnect');
    expect(await t.stats()).toMatchObject({ invalidGrant: 1, revocations: 0 });
    expect(await t.running.tokens.status({ clientKey: t.tenant.clientKey, accountId: USER })).toMatchObject({
      state: 'reauthorization_required',
      reconnectSoon: false,
    });
    await t.connect(USER);
    const renewed = await t.macro(USER);
    expect(stateOf(renewed.text)).toBe('ready');
    expect(noticesOf(renewed.text)).toEqual([]);
  });
});

describe('KEEP_ALIVE_AFTER_DAYS reaches the token manager', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
  });

  test.each([
    ['default (30)', {}, { swept: true, rotated: 1 }],
    ['0 (off)', { KEEP_ALIVE_AFTER_DAYS: '0' }, { swept: false, rotated: 0 }],
    ['45', { KEEP_ALIVE_AFTER_DAYS: '45' }, { swept: true, rotated: 0 }],
  ])('%s: a chain idle 31 days', async (_name, env, expected) => {
    t = await startTestApp({ env });
    await t.connect(USER);
    const before = (await t.stats()).rotations;
    await t.advance(31 * DAY);
    expect(await t.running.tokens.keepAlive()).toMatchObject(expected);
    expect((await t.stats()).rotations - before).toBe(expected.rotated);
  });
});
