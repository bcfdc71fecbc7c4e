// The consent's code exchange goes through the token manager's own OAuth client, so it honours
// `tokenRequestEncoding` (the app used to build a second, JSON-only client for it).

import { EXPRESS_MAJORS, type RouterHarness, USER, resultOf, startRouterHarness } from './router-harness';

const [, express4] = EXPRESS_MAJORS[0];

describe.each([
  ['form', 'application/x-www-form-urlencoded'],
  ['json', 'application/json'],
] as const)('a %s-encoding manager', (encoding, contentType) => {
  let h: RouterHarness;
  beforeEach(async () => {
    h = await startRouterHarness(express4, { manager: { tokenRequestEncoding: encoding } });
  });
  afterEach(async () => {
    await h.close();
  });

  test(`exchanges the consent's code ${encoding}-encoded, with the callback as redirect_uri`, async () => {
    const res = await h.connect(USER);
    expect(resultOf(res.text)).toBe('connected');
    expect(h.tokenRequests).toHaveLength(1);
    const [sent] = h.tokenRequests;
    expect(sent.contentType).toBe(contentType);
    const fields =
      encoding === 'form'
        ? Object.fromEntries(new URLSearchParams(sent.body))
        : (JSON.parse(sent.body) as Record<string, string>);
    expect(Object.keys(fields).sort()).toEqual([
      'client_id',
      'client_secret',
      'code',
      'grant_type',
      'redirect_uri',
    ]);
    expect(fields).toMatchObject({
      grant_type: 'authorization_code',
      redirect_uri: `${h.base}/jira/callback`,
      client_id: 'sim-client-id',
    });
    expect(h.sim.sim.stats().codeExchanges).toBe(1);
    expect(await h.status(USER)).toMatchObject({ state: 'active' });
  });
});
