// The Connect app's bootstrap: one ordered, commented assembly of express, ACE, the token manager
// and the routes. `npm start` runs it; without Atlassian credentials it runs the sandbox.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Redis } from 'ioredis';
import { checkRedisPersistence, consentRouter, createTokenManager } from 'jira-token-rotation';
import { aceConsentOptions } from 'jira-token-rotation/ace';
import { createSimulator } from './sim';
import { createAceAddon } from './app/ace-addon';
import type { AceStore } from './app/ace-store';
import { appSecret } from './app/app-secret';
import { type AppConfig, loadConfig } from './app/config';
import { errorHandler, notFound } from './app/error-handlers';
import { createAppRegistry } from './app/metrics-registry';
import { createLogger } from './app/logger';
import { PATHS } from './app/paths';
import { PersonalDataReporter } from './app/personal-data-reporter';
import { RedisReportSchedule } from './app/redis-report-schedule';
import { MemoryReportSchedule } from './app/report-schedule';
import { createRedisClient, quitRedis } from './app/redis';
import { requestLog } from './app/request-log';
import { SandboxTenant } from './app/sandbox-tenant';
import { securityHeaders } from './app/security-headers';
import { followRealTime } from './app/sim-clock';
import { tenantBaseUrl } from './app/tenant-base-url';
import { appUrls, endpoints as endpointsOf } from './app/urls';
import { handlebarsEngine } from './app/views';
import type { CreateAppOptions, CreatedApp, RunningApp } from './app/created-app';
import routes from './routes';
import { CONSENT_BASE } from './routes/types';

export type { CreateAppOptions, CreatedApp, RunningApp } from './app/created-app';

/**
 * Assembles the app. Resolves when ACE has finished its own set-up (descriptor and install routes).
 * @throws TypeError for a configuration the token manager refuses.
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<CreatedApp> {
  const urls = options.urls ?? appUrls(config, config.port);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const fetchFn = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const ep = endpointsOf(config, urls);
  const secure = urls.localBaseUrl.startsWith('https:');
  const sim =
    config.mode === 'sandbox'
      ? createSimulator({ ...config.oauth, accessTokenTtlSeconds: config.simAccessTokenTtlSeconds })
      : undefined;

  // The token manager checks its options before it opens anything, so it goes first.
  const tokens = createTokenManager({
    ...config.oauth,
    tokenUrl: ep.tokenUrl,
    apiBaseUrl: ep.apiBaseUrl,
    redis: config.redisUrl,
    keyPrefix: config.keyPrefix,
    encryptionKey: config.encryptionKey,
    keepAliveAfterDays: config.keepAliveAfterDays,
    logger,
    registry: options.registry ?? createAppRegistry(),
    fetch: fetchFn,
    // Advancing the simulator's clock must expire the app's tokens too. That clock is then the
    // world's, which Redis TIME knows nothing of: no offset is measured to it.
    now: sim ? () => sim.clock.now() : undefined,
    ...(sim ? { clockSyncIntervalMs: 0 } : {}),
  });
  const redis: Redis | undefined = config.redisUrl
    ? createRedisClient(config.redisUrl, 'jtr-app', logger)
    : undefined;
  // A Redis that forgets tokens on restart forgets every user's Jira connection: say so at start.
  if (redis) await checkRedisPersistence(redis, logger);
  // Atlassian's personal data reporting: every process checks hourly, one reports per cycle.
  const reporter =
    config.personalDataReportDays > 0
      ? new PersonalDataReporter({
          tokens,
          reportUrl: ep.reportAccountsUrl,
          schedule: redis ? new RedisReportSchedule(redis, config.keyPrefix) : new MemoryReportSchedule(now),
          logger,
          fetch: fetchFn,
          now,
          cycleMs: config.personalDataReportDays * 24 * 60 * 60 * 1000,
        })
      : undefined;
  reporter?.start();
  const headers = securityHeaders({
    hsts: secure,
    // The tenant's own site (verified by ACE), and in the sandbox its stand-in host page.
    frameAncestors: (req) => {
      const base = tenantBaseUrl(req);
      return [...(base ? [new URL(base).origin] : []), ...(sim ? [urls.sandboxOrigin] : [])];
    },
    hostScriptOrigin: new URL(ep.hostScriptUrl).origin,
    authorizeOrigin: new URL(ep.authorizeUrl).origin,
    appOrigin: new URL(urls.localBaseUrl).origin,
  });

  const app = express();
  app.disable('x-powered-by');
  // ACE picks its config.json section from Express's env; jest's NODE_ENV=test must mean development.
  app.set('env', config.production ? 'production' : 'development');
  app.engine('hbs', handlebarsEngine(PATHS.views));
  app.set('view engine', 'hbs');
  app.set('views', PATHS.views);

  // ACE, with our store adapters and the URLs this process serves (its two routes follow later).
  const connect = createAceAddon(app, {
    localBaseUrl: urls.localBaseUrl,
    hostScriptUrl: ep.hostScriptUrl,
    redisUrl: redis ? config.redisUrl : undefined,
    keyPrefix: config.keyPrefix,
    logger,
  });
  const { addon } = connect;

  // 1. Headers every response carries, then one log line per request (secrets redacted).
  app.use(headers.base);
  app.use(requestLog(logger));
  // 2. The simulator, before our body parsers: it parses its own bodies, strictly.
  if (sim) app.use('/sim', sim.app);
  // 3. Parsers: lifecycle hooks post JSON, and ACE looks for a JWT in `req.body` (forms too). The
  //    consent router reads a body parsed here, or parses its own with the same 16 KiB cap.
  app.use(express.json({ limit: '64kb' }));
  app.use(express.urlencoded({ extended: false, limit: '16kb' }));
  // 4. ACE's request context. It is filled from query parameters until a route authenticates;
  //    views only show what the routes verified.
  app.use(addon.middleware());
  // 5. Static files: the macro's script, the popup's, the sandbox's AP stand-in, the stylesheet.
  app.use('/public', express.static(PATHS.public, { index: false, redirect: false }));

  // 6. Our routes (ACE's two follow on the next tick). The consent flow is the package's router:
  //    states, launch nonces, site choices and rate-limit counts in Redis when the app has it.
  const consent = consentRouter({
    tokens,
    ...aceConsentOptions(addon, { logger }),
    callbackUrl: `${urls.localBaseUrl}${CONSENT_BASE}/callback`,
    secret: appSecret(config),
    redis,
    keyPrefix: config.keyPrefix,
    rateLimit: config.rateLimit,
    authorizeUrl: ep.authorizeUrl,
    meUrl: ep.meUrl,
    resourcesUrl: ep.resourcesUrl,
    secureCookies: secure,
    logger,
    fetch: fetchFn,
    now,
  });
  const sandbox = sim
    ? new SandboxTenant({
        sim,
        appBaseUrl: urls.localBaseUrl,
        lifecycleBaseUrl: urls.internalBaseUrl,
        addonKey: addon.key,
        fetch: fetchFn,
      })
    : undefined;
  routes(app, {
    config,
    urls,
    endpoints: ep,
    addon,
    tokens,
    consent,
    headers,
    logger,
    fetch: fetchFn,
    now,
    redis,
    sandbox,
  });
  await connect.ready;
  // 7. Last, after ACE's routes: 404 and the error handler.
  app.use(notFound);
  app.use(errorHandler(logger));

  return {
    app,
    addon,
    tokens,
    launches: consent.launches,
    urls,
    endpoints: ep,
    logger,
    sim,
    sandbox,
    reporter,
    close: async () => {
      connect.release();
      await reporter?.stop();
      await tokens.close();
      await (addon.settings as unknown as AceStore).close();
      if (redis) await quitRedis(redis);
      sim?.close();
    },
  };
}

/**
 * Listens on `config.host`/`config.port` (0: any free port), then assembles the app for the
 * resulting URLs. Does not install the sandbox tenant: see `main()`.
 */
export async function startApp(
  config: AppConfig,
  options: Omit<CreateAppOptions, 'urls'> = {},
): Promise<RunningApp> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let created: CreatedApp;
  try {
    created = await createApp(config, { ...options, urls: appUrls(config, port) });
  } catch (error) {
    server.close();
    throw error;
  }
  server.on('request', created.app);
  return {
    ...created,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await created.close();
    },
  };
}

/** `npm start`: the sandbox without credentials, the Connect app with them. */
async function main(): Promise<void> {
  const running = await startApp(loadConfig());
  const { urls, sandbox, sim } = running;
  let stopClock = (): void => undefined;
  if (sandbox && sim) {
    // ACE fetches install keys from CONNECT_KEYS_CDN_URL; the sandbox's installs are signed by the simulator.
    process.env.CONNECT_KEYS_CDN_URL = running.endpoints.connectKeysUrl;
    await sandbox.install();
    stopClock = followRealTime(sim.clock);
    console.log(`Sandbox: ${urls.sandboxOrigin}/sandbox?macros=30`);
  } else {
    console.log(`Connect app: ${urls.localBaseUrl}/atlassian-connect.json`);
  }
  const stop = (): void => {
    stopClock();
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    // One line naming what to fix: configuration errors are TypeErrors that name their variable.
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : 'Start-up failed');
    process.exit(1);
  });
}
