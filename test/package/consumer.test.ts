// The package as a vendor gets it: packed as npm would publish it, installed from the tarball into a
// fresh project beside express 5, loaded with require and import, type-checked with node16 and node10
// resolution, and serving a burst against the simulator with exactly one rotation.

import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTokenManager } from 'jira-token-rotation';
import { DEFAULT_SITES } from '../../sim';
import { REDIS_URL, deleteKeys } from '../support/redis-keys';
import { type SimServer, startSim } from '../support/sim-server';
import { BURST_APP_JS, CONSUMER_TS } from './consumer-sources';
import {
  type Footprint,
  type PackedTarball,
  REPO,
  childEnv,
  command,
  footprint,
  initProject,
  makeTempDir,
  nodeEval,
  npmInstall,
  packPackage,
} from './consumer-project';
import { type ListeningChild, freePort, startListeningChild } from './listening-child';

/** What the root entry must neither load nor need: Connect, the app's logging and views. */
const NOT_IN_ROOT = ['atlassian-connect-express', 'atlassian-jwt', 'handlebars', 'pino'];
const USER = 'sim-user-1';
const SITE = { cloudId: DEFAULT_SITES[0].id, url: DEFAULT_SITES[0].url };
const HOUR = 3_600_000;
const MB = 1_000_000;

/** The `name=value` a response sets for the cookie `name`. */
function cookieOf(response: Response, name: string): string {
  const set = response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .find((pair) => pair.startsWith(`${name}=`) && pair !== `${name}=`);
  if (!set) throw new Error(`The response sets no ${name} cookie`);
  return set;
}

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let tarball: PackedTarball;
let project: string;
let beforePackage: Footprint;
let afterPackage: Footprint;

beforeAll(async () => {
  if (!existsSync(join(REPO, 'lib/dist/index.js')))
    throw new Error('lib/dist is missing: run npm run build first (npm test does)');
  temp = await makeTempDir();
  tarball = await packPackage(temp.dir);
  project = join(temp.dir, 'project');
  await mkdir(project);
  await initProject(project);
  await npmInstall(project, ['express@5']);
  beforePackage = await footprint(project);
  await npmInstall(project, [tarball.path]);
  afterPackage = await footprint(project);
  // A TypeScript vendor's types, and ioredis of the package's major for passing a client of its own.
  await npmInstall(project, ['ioredis@5', '@types/express@5', '@types/node@20']);
  console.log(
    `tarball: ${tarball.files.length} files, ${tarball.size} bytes; ` +
      `beside express 5 it adds ${afterPackage.packages - beforePackage.packages} packages, ` +
      `${afterPackage.bytes - beforePackage.bytes} bytes`,
  );
}, 300_000);

afterAll(async () => {
  await temp?.remove();
});

describe('the tarball', () => {
  it('holds the build, the browser helper, the README, the LICENSE and package.json, and nothing else', () => {
    expect(tarball.files.length).toBeLessThanOrEqual(150);
    expect(tarball.size).toBeLessThanOrEqual(100_000);
    expect(tarball.files.filter((f) => /^(src|test|app|sim|bench|lib|examples)\//.test(f))).toEqual([]);
    expect(tarball.files.filter((f) => !/^dist\/.+\.(js|d\.ts)$/.test(f)).sort()).toEqual([
      'LICENSE',
      'README.md',
      'browser/consent.js',
      'package.json',
    ]);
    expect(tarball.files).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.d.ts',
        'dist/ace/index.js',
        'dist/ace/index.d.ts',
      ]),
    );
  });

  it('ships one bundle per entry, each with its declarations', () => {
    // The JavaScript is bundled per entry (lib/scripts/build.js); tsc's declarations stay per module.
    const modules = tarball.files.filter((f) => f.startsWith('dist/') && f.endsWith('.js'));
    expect(modules.sort()).toEqual(['dist/ace/index.js', 'dist/index.js']);
    const declarations = new Set(tarball.files.filter((f) => f.endsWith('.d.ts')));
    for (const module of modules) expect(declarations).toContain(module.replace(/\.js$/, '.d.ts'));
  });
});

describe('installed beside express 5', () => {
  it('adds at most 20 packages and 10 MB', () => {
    expect(afterPackage.packages - beforePackage.packages).toBeGreaterThan(0);
    expect(afterPackage.packages - beforePackage.packages).toBeLessThanOrEqual(20);
    expect(afterPackage.bytes - beforePackage.bytes).toBeLessThanOrEqual(10 * MB);
  });

  it('exports the same names to require and to import, for both entries', async () => {
    const required = JSON.parse(
      await nodeEval(
        project,
        `const root = require('jira-token-rotation');
         const ace = require('jira-token-rotation/ace');
         console.log(JSON.stringify({ root: Object.keys(root).sort(), ace: Object.keys(ace).sort() }));`,
      ),
    ) as { root: string[]; ace: string[] };
    const imported = JSON.parse(
      await nodeEval(
        project,
        `import * as root from 'jira-token-rotation';
         import * as ace from 'jira-token-rotation/ace';
         import { consentRouter, createTokenManager, ErrorCodes } from 'jira-token-rotation';
         import { aceConsentOptions, aceUserResolver } from 'jira-token-rotation/ace';
         // Node adds the CommonJS module itself (default) and its __esModule marker to the names.
         const named = (ns) => Object.keys(ns).filter((k) => !['default', 'module.exports', '__esModule'].includes(k)).sort();
         const types = [createTokenManager, consentRouter, ErrorCodes, aceUserResolver, aceConsentOptions].map((v) => typeof v);
         console.log(JSON.stringify({ root: named(root), ace: named(ace), types }));`,
        true,
      ),
    ) as { root: string[]; ace: string[]; types: string[] };
    expect(required.root).toEqual(
      expect.arrayContaining([
        'createTokenManager',
        'DEFAULTS',
        'ErrorCodes',
        'JiraTokenError',
        'MemoryTokenStore',
        'RedisTokenStore',
        'RedlockRefreshLock',
        'checkRedisPersistence',
        'consentRouter',
      ]),
    );
    expect(required.ace).toEqual([
      'aceConsentOptions',
      'aceUserResolver',
      'connectJwtPrecheck',
      'forgetAceSessionToken',
    ]);
    expect(imported.root).toEqual(required.root);
    expect(imported.ace).toEqual(required.ace);
    expect(imported.types).toEqual(['function', 'function', 'object', 'function', 'function']);
  });

  it('keeps a token and hands it out, in memory, through the CommonJS entry', async () => {
    const out = await nodeEval(
      project,
      `const { createTokenManager } = require('jira-token-rotation');
       const { aceUserResolver } = require('jira-token-rotation/ace');
       const tokens = createTokenManager({ clientId: 'id', clientSecret: 'secret', recoveryIntervalMs: 0, keepAliveIntervalMs: 0 });
       const user = aceUserResolver({ context: { clientKey: 'tenant-1', userAccountId: 'alice' } });
       (async () => {
         await tokens.save(user, { access_token: 'at-1', refresh_token: 'rt-1', expires_in: 3600 }, { cloudId: 'c-1', url: 'https://a.atlassian.net' });
         const token = await tokens.getAccessToken(user);
         await tokens.close();
         console.log(JSON.stringify({ user, accessToken: token.accessToken, cloudId: token.cloudId }));
       })();`,
    );
    expect(JSON.parse(out)).toEqual({
      user: { clientKey: 'tenant-1', accountId: 'alice' },
      accessToken: 'at-1',
      cloudId: 'c-1',
    });
  });

  it('shares one copy of each class between the two entries, from require and from import', async () => {
    const check = (load: string) => `
       const bad = { context: { clientKey: 't', userAccountId: 'x'.repeat(600) } };
       try { ace.aceUserResolver(bad); console.log('no error'); }
       catch (error) { console.log(JSON.stringify([${load}, error instanceof root.InvalidUserError, error instanceof root.JiraTokenError, error.name, error.code])); }`;
    const required = await nodeEval(
      project,
      `const root = require('jira-token-rotation'); const ace = require('jira-token-rotation/ace');${check("'require'")}`,
    );
    const imported = await nodeEval(
      project,
      `const root = await import('jira-token-rotation'); const ace = await import('jira-token-rotation/ace');${check("'import'")}`,
      true,
    );
    expect(JSON.parse(required)).toEqual(['require', true, true, 'InvalidUserError', 'jira_invalid_user']);
    expect(JSON.parse(imported)).toEqual(['import', true, true, 'InvalidUserError', 'jira_invalid_user']);
  });

  it('loads no Connect, pino or handlebars code from the root entry, none of which is installed', async () => {
    const out = await nodeEval(
      project,
      `const names = ${JSON.stringify(NOT_IN_ROOT)};
       const installed = names.filter((name) => { try { require.resolve(name); return true; } catch { return false; } });
       require('jira-token-rotation');
       require('jira-token-rotation/ace');
       const loaded = new Set(Object.keys(require.cache)
         .map((path) => /.*node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(path)?.[1])
         .filter(Boolean));
       console.log(JSON.stringify({ installed, loaded: [...loaded].sort() }));`,
    );
    const { installed, loaded } = JSON.parse(out) as { installed: string[]; loaded: string[] };
    expect(installed).toEqual([]);
    // The packages it does load are seen, so the absence of the others means something.
    expect(loaded).toEqual(expect.arrayContaining(['jira-token-rotation', 'ioredis', 'prom-client']));
    expect(loaded.filter((name) => NOT_IN_ROOT.includes(name))).toEqual([]);
  });
});

describe('TypeScript', () => {
  it.each([
    ['node16', 'node16', ['consumer.ts', 'consumer.mts']],
    ['node10', 'commonjs', ['consumer.ts']],
  ])(
    'type-checks a consumer against the published types with moduleResolution %s',
    async (moduleResolution, module, files) => {
      await writeFile(join(project, 'consumer.ts'), CONSUMER_TS);
      await writeFile(join(project, 'consumer.mts'), CONSUMER_TS);
      const tsconfig = `tsconfig.${moduleResolution}.json`;
      await writeFile(
        join(project, tsconfig),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            module,
            moduleResolution,
            target: 'es2022',
            lib: ['es2022'],
            types: ['node'],
            esModuleInterop: true,
            // The published declarations are checked too, not taken on trust.
            skipLibCheck: false,
            noEmit: true,
          },
          files,
        }),
      );
      const out = await command(join(REPO, 'node_modules/.bin/tsc'), ['-p', tsconfig], project).catch(
        (error: Error) => error.message,
      );
      expect(out).toBe('');
    },
    60_000,
  );
});

describe('a vendor app from the tarball, against the simulator', () => {
  let sim: SimServer;
  let app: ListeningChild | undefined;
  const keyPrefix = `jtr-consumer-test:${randomUUID()}:`;

  afterEach(async () => {
    await app?.stop();
    await sim?.close();
    await deleteKeys(keyPrefix);
  });

  it('answers 50 parallel requests whose token Atlassian no longer takes with exactly 1 rotation', async () => {
    sim = await startSim();
    const encryptionKey = randomBytes(32).toString('base64');
    const managerEnv = {
      CLIENT_ID: 'sim-client-id',
      CLIENT_SECRET: 'sim-client-secret',
      TOKEN_URL: sim.tokenUrl,
      API_BASE_URL: sim.baseUrl,
      REDIS_URL,
      REDIS_KEY_PREFIX: keyPrefix,
      TOKEN_ENCRYPTION_KEY: encryptionKey,
    };
    // A consent, stored as the app's own would store it, in the Redis the app reads.
    const seeding = createTokenManager({
      clientId: managerEnv.CLIENT_ID,
      clientSecret: managerEnv.CLIENT_SECRET,
      tokenUrl: sim.tokenUrl,
      apiBaseUrl: sim.baseUrl,
      redis: REDIS_URL,
      keyPrefix,
      encryptionKey,
      recoveryIntervalMs: 0,
      keepAliveIntervalMs: 0,
    });
    await seeding.save({ clientKey: 'vendor', accountId: USER }, sim.sim.consent(USER), SITE);
    await seeding.close();
    await writeFile(join(project, 'burst-app.js'), BURST_APP_JS);
    app = await startListeningChild('burst-app.js', project, childEnv(managerEnv), /^listening (\d+)$/);

    // Atlassian's clock passes the access token's expiry; the app's does not know it yet.
    sim.sim.clock.advance(HOUR + 1);
    const before = sim.sim.stats();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => fetch(`${app!.base}/myself`, { headers: { 'x-account': USER } })),
    );
    const bodies = await Promise.all(answers.map((a) => a.json() as Promise<{ accountId?: string }>));
    const after = sim.sim.stats();

    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(bodies.map((b) => b.accountId)).toEqual(Array(50).fill(USER));
    expect(after.rotations - before.rotations).toBe(1);
    expect(after.tokenRequests - before.tokenRequests).toBe(1);
    expect(after.revocations).toBe(0);
    expect(after.leewayReuses).toBe(0);
    // The expired token really was refused: the rotation came from Jira's 401s.
    expect(after.apiUnauthorized - before.apiUnauthorized).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

describe('examples/express, copied into the project, against the simulator', () => {
  let sim: SimServer;
  let example: ListeningChild | undefined;
  const keyPrefix = `jtr-consumer-example:${randomUUID()}:`;

  afterEach(async () => {
    await example?.stop();
    await sim?.close();
    await deleteKeys(keyPrefix);
  });

  it('connects a user through the consent router, then answers a burst of 50 with exactly 1 rotation', async () => {
    sim = await startSim();
    await cp(join(REPO, 'examples/express'), join(project, 'example'), { recursive: true });
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    example = await startListeningChild(
      'example/server.js',
      project,
      childEnv({
        PORT: String(port),
        PUBLIC_URL: publicUrl,
        ATLASSIAN_CLIENT_ID: 'sim-client-id',
        ATLASSIAN_CLIENT_SECRET: 'sim-client-secret',
        ATLASSIAN_TOKEN_URL: sim.tokenUrl,
        ATLASSIAN_API_BASE_URL: sim.baseUrl,
        ATLASSIAN_AUTHORIZE_URL: `${sim.baseUrl}/authorize`,
        APP_SECRET: randomBytes(32).toString('hex'),
        REDIS_URL,
        REDIS_KEY_PREFIX: keyPrefix,
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      }),
      /^Listening on http:\/\/localhost:(\d+)$/,
    );
    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${publicUrl}${path}`, { headers, redirect: 'manual' });

    // The example's session, then the consent as the browser helper and the popup run it.
    const login = await get(`/login?account=${USER}`);
    expect(login.status).toBe(302);
    const session = cookieOf(login, 'session');
    const notConnected = await get('/myself', { cookie: session });
    expect(notConnected.status).toBe(401);
    expect(await notConnected.json()).toEqual({
      error: 'jira_reauthorization_required',
      reason: 'jira_not_connected',
    });
    // The session is the example's only identity: a forged one is nobody, a bad account id refused.
    const signature = session.split('.')[1];
    const forged = `session=${Buffer.from('sim-user-2').toString('base64url')}.${signature}`;
    const anonymous = await get('/myself', { cookie: forged });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: 'log in first: /login?account=<account id>' });
    expect((await get('/login?account=%3Cscript%3E')).status).toBe(400);
    const helper = await get('/jira/consent.js');
    expect(helper.status).toBe(200);
    expect(helper.headers.get('content-type')).toMatch(/javascript/);
    const launched = await fetch(`${publicUrl}/jira/launch`, {
      method: 'POST',
      headers: { cookie: session },
    });
    expect(launched.status).toBe(200);
    const { launch } = (await launched.json()) as { launch: string };
    const started = await fetch(`${publicUrl}/jira/connect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ launch }),
      redirect: 'manual',
    });
    expect(started.status).toBe(303);
    const authorize = new URL(started.headers.get('location')!);
    expect(authorize.origin + authorize.pathname).toBe(`${sim.baseUrl}/authorize`);
    const nonce = cookieOf(started, 'jtr-consent');
    const decided = await fetch(`${sim.baseUrl}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...Object.fromEntries(authorize.searchParams),
        account_id: USER,
        decision: 'accept',
      }),
      redirect: 'manual',
    });
    expect(decided.status).toBe(302);
    const callback = new URL(decided.headers.get('location')!);
    expect(callback.origin + callback.pathname).toBe(`${publicUrl}/jira/callback`);
    const finished = await get(`${callback.pathname}${callback.search}`, { cookie: nonce });
    expect(finished.status).toBe(200);
    const status = await get('/jira/status', { cookie: session });
    expect(await status.json()).toMatchObject({ connected: true, state: 'active' });

    sim.sim.clock.advance(HOUR + 1);
    const before = sim.sim.stats();
    const answers = await Promise.all(Array.from({ length: 50 }, () => get('/myself', { cookie: session })));
    const bodies = await Promise.all(answers.map((a) => a.json() as Promise<{ accountId?: string }>));
    const after = sim.sim.stats();
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(bodies.map((b) => b.accountId)).toEqual(Array(50).fill(USER));
    expect(after.rotations - before.rotations).toBe(1);
    expect(after.revocations).toBe(0);
    expect(after.leewayReuses).toBe(0);
    expect(after.apiUnauthorized - before.apiUnauthorized).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
