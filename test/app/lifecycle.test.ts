// The descriptor, and the lifecycle hooks through the real signed-install flow: ACE verifies RS256
// install JWTs with the key it fetches from the simulator's install-key CDN (CONNECT_KEYS_CDN_URL).

import * as jwt from 'atlassian-jwt';
import { type InstallKeys, signInstallJwt } from '../../sim';
import { generateInstallKeys } from '../../sim/install-keys';
import { OTHER_USER, type TestApp, USER, startTestApp, stateOf } from './helpers';

describe('lifecycle', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const installBody = (clientKey: string) => ({
    key: 'jira-issues',
    clientKey,
    sharedSecret: 'a-shared-secret-of-sufficient-length-0123456789',
    baseUrl: 'https://sandbox.atlassian.net/wiki',
    productType: 'confluence',
    eventType: 'installed',
  });
  const lifecycleJwt = (
    path: string,
    claims: { iss: string; aud?: string },
    keys: { installKeys: InstallKeys } = t.running.sim!,
  ) =>
    signInstallJwt(keys, {
      iss: claims.iss,
      aud: claims.aud ?? t.running.urls.localBaseUrl,
      qsh: jwt.createQueryStringHash(jwt.fromMethodAndUrl('POST', path), false, t.running.urls.localBaseUrl),
    });

  test('the descriptor: required fields, every parameter in the macro URL, every URL served', async () => {
    const res = await t.http().get('/atlassian-connect.json').expect(200);
    const descriptor = res.body as {
      key: string;
      name: string;
      baseUrl: string;
      authentication: { type: string };
      lifecycle: Record<string, string>;
      apiMigrations: Record<string, boolean>;
      scopes: string[];
      modules: {
        dynamicContentMacros: {
          key: string;
          name: { value: string };
          url: string;
          parameters: { identifier: string }[];
        }[];
      };
    };
    expect(descriptor).toMatchObject({
      key: 'jira-issues',
      name: 'Jira issues',
      baseUrl: t.running.urls.localBaseUrl,
      authentication: { type: 'jwt' },
      lifecycle: { installed: '/installed', uninstalled: '/uninstalled' },
      apiMigrations: { 'signed-install': true },
    });
    expect(Array.isArray(descriptor.scopes)).toBe(true);
    const [macro] = descriptor.modules.dynamicContentMacros;
    expect(macro).toMatchObject({ key: 'jira-issues', name: { value: 'Jira issues' } });
    const template = new URL(macro.url, 'http://template');
    const placeholders = [...template.searchParams.values()];
    for (const context of ['{page.id}', '{macro.id}', '{output.type}'])
      expect(placeholders).toContain(context);
    expect(macro.parameters.map((p) => p.identifier).sort()).toEqual(['jql', 'maxResults']);
    for (const { identifier } of macro.parameters) expect(placeholders).toContain(`{${identifier}}`);
    // Each URL is a route of the app: without a JWT it is refused (401), never missing (404).
    await t.http().get(template.pathname).expect(401);
    for (const path of Object.values(descriptor.lifecycle)) await t.http().post(path).send({}).expect(401);
  });

  test('a signed install is verified against the CDN key and saves the installation', async () => {
    const info = (await t.running.addon.settings.get('clientInfo', t.tenant.clientKey)) as Record<
      string,
      unknown
    >;
    expect(info).toMatchObject({
      clientKey: t.tenant.clientKey,
      baseUrl: 'https://sandbox.atlassian.net/wiki',
    });
    expect(t.logger.events('installed').map((e) => e.obj.clientKey)).toEqual([t.tenant.clientKey]);
    // ACE logs what the store returned: no shared secret in any line.
    expect(t.logger.text()).not.toMatch(/sharedSecret['"]?\s*[:=]\s*['"]?(?!\[redacted\])\w/);
  });

  test('installs that are unsigned, signed by another key or for another app are refused (401)', async () => {
    const body = installBody('tenant-forged');
    const otherKeys = { installKeys: generateInstallKeys(t.running.sim!.installKeys.kid) };
    const tokens = [
      undefined,
      lifecycleJwt('/installed', { iss: body.clientKey }, otherKeys),
      lifecycleJwt('/installed', { iss: body.clientKey, aud: 'https://another.app' }),
      lifecycleJwt('/uninstalled', { iss: body.clientKey }),
    ];
    for (const token of tokens) {
      const request = t.http().post('/installed');
      await (token ? request.set('authorization', `JWT ${token}`) : request).send(body).expect(401);
    }
    expect(await t.running.addon.settings.get('clientInfo', body.clientKey)).toBeNull();
  });

  test('uninstall purges the tenant, its tokens and its installation, and nothing of another tenant', async () => {
    const other = await t.installTenant({ clientKey: 'tenant-bystander' });
    await t.connect(USER);
    await t.connect(OTHER_USER);
    await t.connect(USER, { tenant: other });
    await t.tenant.uninstall();
    for (const accountId of [USER, OTHER_USER]) {
      expect(await t.running.tokens.status({ clientKey: t.tenant.clientKey, accountId })).toBeNull();
    }
    expect(await t.running.addon.settings.get('clientInfo', t.tenant.clientKey)).toBeNull();
    expect(t.logger.events('uninstalled').map((e) => e.obj)).toEqual([
      expect.objectContaining({ clientKey: t.tenant.clientKey, purged: 2 }),
    ]);
    // The tenant's macros no longer authenticate; the bystander's still show issues.
    expect((await t.macro(USER)).status).toBe(401);
    expect(await t.running.tokens.status({ clientKey: other.clientKey, accountId: USER })).toMatchObject({
      state: 'active',
    });
    expect(await t.running.addon.settings.get('clientInfo', other.clientKey)).not.toBeNull();
    expect(stateOf((await t.macro(USER, undefined, other)).text)).toBe('ready');
  });

  test("an uninstall signed by one tenant cannot purge another's tokens", async () => {
    await t.connect(USER);
    const other = await t.installTenant({ clientKey: 'tenant-attacker' });
    const res = await t
      .http()
      .post('/uninstalled')
      .set('authorization', `JWT ${lifecycleJwt('/uninstalled', { iss: other.clientKey })}`)
      .send({ clientKey: t.tenant.clientKey, baseUrl: t.tenant.baseUrl, eventType: 'uninstalled' });
    expect(res.status).toBe(401);
    expect(await t.running.tokens.status({ clientKey: t.tenant.clientKey, accountId: USER })).toMatchObject({
      state: 'active',
    });
    expect(stateOf((await t.macro(USER)).text)).toBe('ready');
  });
});
