// The Connect admin page: a tenant's admin sees that tenant's connected users and the state of
// each one's Jira chain, never a token; only a JWT signed for the admin page's URL opens it.

import { ADMIN_PAGE_CAP } from '../../routes/admin';
import { ADMIN_PATH } from '../../routes/types';
import { HOUR, OTHER_USER, type TestApp, USER, attributes, pathOf, startTestApp } from './helpers';

const DAY = 24 * HOUR;

describe.each([
  ['memory', false],
  ['redis', true],
] as const)('the admin page (%s)', (_name, redis) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({ redis });
  });
  afterEach(async () => {
    await t.close();
  });

  /** The admin page as Confluence frames it for `accountId`, in `tenant` (default: the sandbox's). */
  const adminPage = (accountId = USER, tenant = t.tenant) =>
    t.http().get(pathOf(tenant.iframeUrl(ADMIN_PATH, accountId, t.running.urls.sandboxOrigin)));
  /** `accountId → data-state` of the page's rows. */
  const rowsOf = (html: string): Record<string, string> => {
    const accounts = attributes(html, 'data-account');
    const states = attributes(html, 'data-state');
    return Object.fromEntries(accounts.map((account, i) => [account, states[i]]));
  };

  test("lists this tenant's users with their states, and no other tenant's, and no token", async () => {
    await t.connect(USER);
    await t.connect(OTHER_USER);
    // Another tenant, with its own user and the same account connected there too.
    const other = await t.installTenant({ clientKey: 'tenant-b' });
    await t.connect(USER, { tenant: other });
    await t.running.tokens.save(
      { clientKey: 'tenant-b', accountId: 'only-in-tenant-b' },
      t.running.sim!.consent(USER),
    );

    // Past the 90-day inactivity expiry, USER's macro meets invalid_grant: a reauthorization break.
    await t.advance(91 * DAY);
    expect((await t.macro(USER)).status).toBe(200);

    const res = await adminPage();
    expect(res.status).toBe(200);
    expect(rowsOf(res.text)).toEqual({ [USER]: 'needs_consent', [OTHER_USER]: 'connected' });
    expect(res.text).not.toContain('only-in-tenant-b');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toContain('frame-ancestors');
    expect(t.probe.secrets.size).toBeGreaterThanOrEqual(4);
    for (const secret of t.probe.secrets) expect(res.text).not.toContain(secret);
    expect(res.text).not.toMatch(/ciphertext|k1\./);

    // The other tenant's page: its own users only, its USER chain untouched by this tenant's break.
    const theirs = await adminPage(USER, other);
    expect(rowsOf(theirs.text)).toEqual({ [USER]: 'connected', 'only-in-tenant-b': 'connected' });
  });

  test("shows each chain's times: expiry, last refresh, connected since, reconnect-by", async () => {
    await t.connect(USER);
    const status = (await t.running.tokens.status({ clientKey: t.tenant.clientKey, accountId: USER }))!;
    const text = (await adminPage()).text;
    const minutes = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    expect(text).toContain(minutes(status.expiresAt));
    expect(text).toContain(minutes(status.lastRotatedAt));
    expect(text).toContain(minutes(status.familyStartedAt + 365 * DAY));
  });

  test('no connected user: an empty notice', async () => {
    const res = await adminPage();
    expect(res.status).toBe(200);
    expect(res.text).toContain('data-empty');
    expect(attributes(res.text, 'data-account')).toEqual([]);
  });

  test('a big tenant: the first 200 users, sorted, and a note that there are more', async () => {
    const sim = t.running.sim!;
    const ids = Array.from({ length: 250 }, (_, i) => `acct-${String(i).padStart(3, '0')}`);
    for (const accountId of ids)
      await t.running.tokens.save({ clientKey: t.tenant.clientKey, accountId }, sim.consent(USER));
    const res = await adminPage();
    const listed = attributes(res.text, 'data-account');
    expect(listed).toHaveLength(ADMIN_PAGE_CAP);
    expect(listed).toEqual([...listed].sort());
    expect(new Set(listed).size).toBe(ADMIN_PAGE_CAP);
    expect(res.text).toContain('data-more');
  });

  test("refused without a JWT signed for the admin page: none, a macro's, a context token", async () => {
    await t.connect(USER);
    const descriptor = (await t.http().get('/atlassian-connect.json').expect(200)).body as {
      modules: { adminPages: { key: string; url: string }[] };
    };
    expect(descriptor.modules.adminPages).toEqual([
      { key: 'jira-connections-admin', name: { value: 'Jira connections' }, url: ADMIN_PATH },
    ]);
    await t.http().get(ADMIN_PATH).expect(401);
    // A macro iframe's JWT, with its query, replayed on the admin path: the qsh does not match.
    const macroUrl = new URL(
      t.tenant.iframeUrl('/macro/jira-issues?pageId=1', USER, t.running.urls.sandboxOrigin),
    );
    const replayed = await t.http().get(`${ADMIN_PATH}${macroUrl.search}`);
    expect(replayed.status).toBe(401);
    expect(replayed.text).not.toContain(USER);
    const context = await t
      .http()
      .get(ADMIN_PATH)
      .set('authorization', `JWT ${t.contextToken(USER)}`);
    expect(context.status).toBe(401);
  });

  test('the sandbox page links to the admin page, which opens; an anonymous viewer gets no link', async () => {
    await t.connect(USER);
    const page = await t.http().get('/sandbox?macros=1').expect(200);
    const [link] = attributes(page.text, 'href').filter((href) => href.includes(ADMIN_PATH));
    const opened = await t.http().get(pathOf(link)).expect(200);
    expect(Object.keys(rowsOf(opened.text))).toEqual([USER]);
    const anonymous = await t.http().get('/sandbox?macros=1&user=anonymous').expect(200);
    expect(anonymous.text).not.toContain(ADMIN_PATH);
  });
});
