// Property: whatever Connect JWT reaches a JWT-authenticated route (forged, tampered, `alg: none`,
// RS256 for HS256 and the reverse, another tenant's secret, wrong or missing `qsh`, expired, not
// yet valid, unknown issuer, oversized, garbage), in the query, the Authorization header or a form
// body, the app answers 401 (never a 500), sets no session token, stores nothing (tokens,
// installations, simulator counters unchanged), and no secret or token text reaches a response or
// a log line.

import { generateKeyPairSync } from 'node:crypto';
import * as jwt from 'atlassian-jwt';
import fc from 'fast-check';
import type request from 'supertest';
import { type Forgery, type ForgeryMaterial, encodeJwt, forgedJwt } from '../support/hostile-jwts';
import { ADMIN_PATH } from '../../routes/types';
import { MACRO_QUERY, type TestApp, USER, startTestApp, stateOf } from './helpers';

/** Where a token travels. */
type Placement = 'query' | 'header' | 'body';

interface Route {
  method: 'get' | 'post';
  path: string;
  placements: Placement[];
  /** Whether the route binds a token to its request (`qsh`); iframe API calls accept context tokens. */
  qshChecked: boolean;
  body?: () => Record<string, unknown>;
}

const ATTACKER_SECRET = 'attacker-tenant-shared-secret-0123456789abcdef';

/** Header values must be visible ASCII; other tokens go in the query or the body instead. */
const HEADER_SAFE = /^[\x20-\x7e]*$/;

describe('hostile Connect JWTs', () => {
  let t: TestApp;
  let victimSecret: string;
  let attackerPrivateKeyPem: string;
  beforeAll(async () => {
    // A rate limit is not what is tested here: hundreds of refused requests come from one address.
    t = await startTestApp({ env: { CONNECT_RATE_LIMIT: '1000000' } });
    await t.installTenant({ clientKey: 'tenant-attacker', sharedSecret: ATTACKER_SECRET });
    await t.connect(USER);
    const info = (await t.running.addon.settings.get('clientInfo', t.tenant.clientKey)) as {
      sharedSecret: string;
    };
    victimSecret = info.sharedSecret;
    attackerPrivateKeyPem = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;
  }, 30_000);
  afterAll(async () => {
    await t.close();
  });

  /** Everything a forged request could change. */
  const snapshot = async () => ({
    tokens: await t.running.tokens.status({ clientKey: t.tenant.clientKey, accountId: USER }),
    victim: await t.running.addon.settings.get('clientInfo', t.tenant.clientKey),
    attacker: await t.running.addon.settings.get('clientInfo', 'tenant-attacker'),
    installs: (await t.running.addon.settings.getAllClientInfos()).length,
    sim: await t.stats(),
  });

  /** The texts that must never be shown or logged. */
  const secretsOf = (forgery: Forgery): string[] => {
    const secrets = [victimSecret, ...t.probe.secrets];
    // A short garbage string occurs anywhere by chance; a token or its signature does not.
    if (forgery.token.length >= 24) secrets.push(forgery.token);
    const signature = forgery.token.split('.')[2];
    if (signature && signature.length >= 16) secrets.push(signature);
    return secrets;
  };

  const send = (route: Route, placement: Placement, token: string): request.Test => {
    const [path, query] = route.path.split('?');
    const params = new URLSearchParams(query);
    if (placement === 'query') params.set('jwt', token);
    const url = params.size ? `${path}?${params.toString()}` : path;
    const req = route.method === 'get' ? t.http().get(url) : t.http().post(url);
    if (placement === 'header') req.set('authorization', `JWT ${token}`);
    if (placement === 'body') return req.type('form').send({ ...route.body?.(), jwt: token });
    return route.body ? req.send(route.body()) : req;
  };

  async function checkRoute(route: Route, material: ForgeryMaterial, numRuns: number): Promise<void> {
    const before = await snapshot();
    const placements = fc.constantFrom(...route.placements);
    await fc.assert(
      fc.asyncProperty(forgedJwt(material, route.qshChecked), placements, async (forgery, drawn) => {
        const placement = drawn === 'header' && !HEADER_SAFE.test(forgery.token) ? 'query' : drawn;
        const logged = t.logger.entries.length;
        const res = await send(route, placement, forgery.token);
        expect({ kind: forgery.kind, placement, status: res.status }).toEqual({
          kind: forgery.kind,
          placement,
          status: 401,
        });
        expect(res.headers['x-acpt']).toBeUndefined();
        expect(res.body?.launch).toBeUndefined();
        const shown = `${JSON.stringify(res.headers)}\n${res.text}`;
        const logs = t.logger.entries
          .slice(logged)
          .map((e) => `${e.msg ?? ''} ${JSON.stringify(e.obj)}`)
          .join('\n');
        for (const secret of secretsOf(forgery)) {
          expect(shown).not.toContain(secret);
          expect(logs).not.toContain(secret);
        }
        expect(await snapshot()).toEqual(before);
      }),
      { numRuns },
    );
  }

  const contextMaterial = (qsh: string): ForgeryMaterial => {
    const iat = Math.floor(Date.now() / 1000);
    return {
      claims: { iss: t.tenant.clientKey, sub: USER, iat, exp: iat + 180, qsh },
      expected: { kind: 'hs256', secret: victimSecret },
      kid: t.running.sim!.installKeys.kid,
      attackerSecret: ATTACKER_SECRET,
      publicKeyPem: t.running.sim!.installKeys.publicKeyPem,
      attackerPrivateKeyPem,
    };
  };

  const installMaterial = (path: string): ForgeryMaterial => {
    const base = t.running.urls.localBaseUrl;
    const iat = Math.floor(Date.now() / 1000);
    return {
      claims: {
        iss: t.tenant.clientKey,
        aud: [base],
        iat,
        exp: iat + 180,
        qsh: jwt.createQueryStringHash(jwt.fromMethodAndUrl('POST', path), false, base),
      },
      expected: { kind: 'rs256', privateKeyPem: t.running.sim!.installKeys.privateKeyPem },
      kid: t.running.sim!.installKeys.kid,
      // An installed tenant knows its own shared secret: the HS256 forgery uses it.
      attackerSecret: victimSecret,
      publicKeyPem: t.running.sim!.installKeys.publicKeyPem,
      attackerPrivateKeyPem,
    };
  };

  /** The token the material describes, unforged: the control that the routes do accept it. */
  const genuine = (m: ForgeryMaterial, claims: Record<string, unknown> = {}) =>
    encodeJwt(
      {
        alg: m.expected.kind === 'hs256' ? 'HS256' : 'RS256',
        typ: 'JWT',
        ...(m.expected.kind === 'rs256' ? { kid: m.kid } : {}),
      },
      { ...m.claims, ...claims },
      m.expected,
    );

  const MACRO_PATH = `/macro/jira-issues?${MACRO_QUERY}`;
  const macroQsh = () =>
    jwt.createQueryStringHash(jwt.fromMethodAndUrl('GET', MACRO_PATH), false, t.running.urls.localBaseUrl);

  test('the macro (qsh-bound iframe URL): 401 for every forgery', async () => {
    await checkRoute(
      { method: 'get', path: MACRO_PATH, placements: ['query', 'header'], qshChecked: true },
      contextMaterial(macroQsh()),
      150,
    );
  }, 60_000);

  const adminQsh = () =>
    jwt.createQueryStringHash(jwt.fromMethodAndUrl('GET', ADMIN_PATH), false, t.running.urls.localBaseUrl);

  test('the admin page (qsh-bound): 401 for every forgery', async () => {
    await checkRoute(
      { method: 'get', path: ADMIN_PATH, placements: ['query', 'header'], qshChecked: true },
      contextMaterial(adminQsh()),
      100,
    );
  }, 60_000);

  test.each([
    ['post', '/jira/launch'],
    ['get', '/jira/status'],
    ['post', '/jira/disconnect'],
  ] as const)(
    '%s %s (context token): 401 for every forgery',
    async (method, path) => {
      await checkRoute(
        {
          method,
          path,
          placements: method === 'post' ? ['query', 'header', 'body'] : ['query', 'header'],
          qshChecked: false,
        },
        contextMaterial('context-qsh'),
        100,
      );
    },
    60_000,
  );

  test.each(['/installed', '/uninstalled'])(
    'POST %s (signed install, RS256): 401 for every forgery; no installation replaced or purged',
    async (path) => {
      const material = installMaterial(path);
      // The install an attacker would want: the victim's clientKey, with a secret of theirs.
      const body = () => ({
        key: t.running.addon.key,
        clientKey: t.tenant.clientKey,
        sharedSecret: ATTACKER_SECRET,
        baseUrl: t.tenant.baseUrl,
        productType: 'confluence',
        eventType: path.slice(1),
      });
      await checkRoute(
        { method: 'post', path, placements: ['header', 'query'], qshChecked: true, body },
        material,
        100,
      );
    },
    60_000,
  );

  // Last, since they change what the properties above keep: the same material, unforged, is
  // accepted by every route, so the 401s above are the forgeries' doing.
  test('control: the unforged tokens are accepted', async () => {
    const macro = await t.http().get(`${MACRO_PATH}&jwt=${genuine(contextMaterial(macroQsh()))}`);
    expect(macro.status).toBe(200);
    expect(stateOf(macro.text)).toBe('ready');
    const admin = await t.http().get(`${ADMIN_PATH}?jwt=${genuine(contextMaterial(adminQsh()))}`);
    expect(admin.status).toBe(200);
    const context = `JWT ${genuine(contextMaterial('context-qsh'))}`;
    const launched = await t.http().post('/jira/launch').set('authorization', context);
    expect(launched.status).toBe(200);
    expect(typeof launched.body.launch).toBe('string');
    expect((await t.http().get('/jira/status').set('authorization', context)).body.connected).toBe(true);
    expect((await t.http().post('/jira/disconnect').set('authorization', context)).status).toBe(204);
    // A genuine (re)install of the victim with the attacker's body would replace its secret: this
    // is what the install properties refused; here it installs a new tenant instead.
    const install = installMaterial('/installed');
    const installed = await t
      .http()
      .post('/installed')
      .set('authorization', `JWT ${genuine(install, { iss: 'tenant-control' })}`)
      .send({
        key: t.running.addon.key,
        clientKey: 'tenant-control',
        sharedSecret: ATTACKER_SECRET,
        baseUrl: t.tenant.baseUrl,
        productType: 'confluence',
        eventType: 'installed',
      });
    expect(installed.status).toBe(204);
    const uninstalled = await t
      .http()
      .post('/uninstalled')
      .set('authorization', `JWT ${genuine(installMaterial('/uninstalled'))}`)
      .send({
        key: t.running.addon.key,
        clientKey: t.tenant.clientKey,
        baseUrl: t.tenant.baseUrl,
        productType: 'confluence',
        eventType: 'uninstalled',
      });
    expect(uninstalled.status).toBe(204);
    expect(await t.running.addon.settings.get('clientInfo', t.tenant.clientKey)).toBeNull();
  });
});
