// A running sandbox app for the app tests: listening on a loopback port, installed by its stand-in
// Confluence through the real signed-install flow (ACE fetches the sim's install key), with a
// capturing logger and a fetch probe that records every token the app receives.

import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { type RunningApp, startApp } from '../../app';
import { loadConfig } from '../../app/config';
import { SandboxTenant } from '../../app/sandbox-tenant';
import type { SimStats } from '../../sim';
import type { Registry } from 'prom-client';
import type { CaptureLogger } from '../../support/capture-logger';
import { pinoCapture } from '../support/pino-capture';
import { type FetchProbe, fetchProbe } from '../../support/fetch-probe';
import { REDIS_URL, deleteKeys } from '../support/redis-keys';
import { nonceCookie } from '../support/nonce-cookie';

export { nonceCookie };

export { REDIS_URL, deleteKeys };

export const USER = 'sim-user-1';
export const OTHER_USER = 'sim-user-2';
export const HOUR = 3_600_000;
/** The macro's query as Confluence fills in the descriptor's URL template. */
export const MACRO_QUERY =
  'pageId=65537&macroId=m-1&outputType=display&jql=order%20by%20created%20DESC&maxResults=5';

export interface TestAppOptions {
  /** Tokens, states and installations in Redis, under a unique key prefix. */
  redis?: boolean;
  /** More environment variables for `loadConfig`. */
  env?: Record<string, string>;
  /** The registry the app's token manager registers its metrics in. Default: the app's own. */
  registry?: Registry;
}

export interface TestApp {
  running: RunningApp;
  /** The app over loopback: `http://127.0.0.1:<port>`. */
  base: string;
  /** What the app's pino logger wrote, parsed. */
  logger: CaptureLogger;
  /** The app's log lines exactly as written. */
  logLines: string[];
  probe: FetchProbe;
  tenant: SandboxTenant;
  keyPrefix: string;
  /** supertest against the app over loopback. */
  http(): ReturnType<typeof request>;
  /** GET the macro as Confluence frames it, for `accountId` (undefined: anonymous); `query` after the `?`. */
  macro(accountId: string | undefined, query?: string, tenant?: SandboxTenant): Promise<request.Response>;
  /** What `AP.context.getToken()` returns to `accountId`. */
  contextToken(accountId: string, tenant?: SandboxTenant): string;
  /** Runs the whole consent in a scripted browser; `consentAs` picks the account on Atlassian's page. */
  connect(accountId: string, options?: ConnectOptions): Promise<ConnectRun>;
  /**
   * Answers the simulator's consent page for a `POST /jira/connect` answer (its redirect to
   * `/authorize`), as Atlassian's page posts its form back; returns the callback URL it redirects to.
   */
  decide(started: request.Response, accountId: string, decision?: 'accept' | 'deny'): Promise<string>;
  /** Another installed Confluence site (tenant). */
  installTenant(options: {
    clientKey: string;
    baseUrl?: string;
    sharedSecret?: string;
  }): Promise<SandboxTenant>;
  /** Moves the simulator's clock (token lifetimes). */
  advance(ms: number): Promise<void>;
  /** Moves the app's real clock (launch tokens, OAuth states). */
  travel(ms: number): void;
  stats(): Promise<SimStats>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  consentAs?: string;
  decision?: 'accept' | 'deny';
  tenant?: SandboxTenant;
}

export interface ConnectRun {
  launch: string;
  state: string;
  code?: string;
  cookie: string;
  callbackPath: string;
  authorizeUrl: URL;
  result: request.Response;
}

/** The path and query of an absolute URL, to send it to the app over loopback. */
export function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const keyPrefix = `jtr-app-test:${randomUUID()}:`;
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'debug',
    REDIS_KEY_PREFIX: keyPrefix,
    ...(options.redis ? { REDIS_URL, TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64') } : {}),
    ...options.env,
  });
  const { logger: appLogger, capture: logger, lines: logLines } = pinoCapture('debug');
  const probe = fetchProbe();
  // The app's real clock (launch tokens, states), which tests move with `travel`; ACE's JWT
  // checks keep the wall clock.
  let offset = 0;
  const running = await startApp(config, {
    logger: appLogger,
    registry: options.registry,
    fetch: probe.fetch,
    now: () => Date.now() + offset,
  });
  const base = running.urls.internalBaseUrl;
  const previousCdn = process.env.CONNECT_KEYS_CDN_URL;
  process.env.CONNECT_KEYS_CDN_URL = running.endpoints.connectKeysUrl;
  const tenant = running.sandbox!;
  await tenant.install();
  const http = () => request(base);
  const sim = running.sim!;

  // Atlassian's consent page posts its form back to /authorize with the same parameters.
  const decide = async (
    started: request.Response,
    accountId: string,
    decision: 'accept' | 'deny' = 'accept',
  ): Promise<string> => {
    const authorizeUrl = new URL(started.headers.location as string);
    const decided = await http()
      .post('/sim/authorize')
      .type('form')
      .send({ ...Object.fromEntries(authorizeUrl.searchParams), account_id: accountId, decision })
      .expect(302);
    return decided.headers.location as string;
  };

  const testApp: TestApp = {
    running,
    base,
    logger,
    logLines,
    probe,
    tenant,
    keyPrefix,
    http,
    macro: (accountId, query = MACRO_QUERY, which = tenant) =>
      http().get(
        pathOf(which.iframeUrl(`/macro/jira-issues?${query}`, accountId, running.urls.sandboxOrigin)),
      ),
    contextToken: (accountId, which = tenant) => which.contextJwt(accountId),
    decide,
    connect: async (accountId, connectOptions = {}) => {
      const which = connectOptions.tenant ?? tenant;
      const launched = await http()
        .post('/jira/launch')
        .set('authorization', `JWT ${which.contextJwt(accountId)}`)
        .expect(200);
      const launch = (launched.body as { launch: string }).launch;
      const started = await http().post('/jira/connect').type('form').send({ launch }).expect(303);
      const authorizeUrl = new URL(started.headers.location as string);
      const state = authorizeUrl.searchParams.get('state')!;
      const cookie = nonceCookie(started);
      const callbackUrl = await decide(
        started,
        connectOptions.consentAs ?? accountId,
        connectOptions.decision ?? 'accept',
      );
      const code = new URL(callbackUrl).searchParams.get('code') ?? undefined;
      const result = await http().get(pathOf(callbackUrl)).set('cookie', cookie);
      return { launch, state, code, cookie, callbackPath: pathOf(callbackUrl), authorizeUrl, result };
    },
    installTenant: async ({ clientKey, baseUrl, sharedSecret }) => {
      const other = new SandboxTenant({
        sim,
        appBaseUrl: running.urls.localBaseUrl,
        lifecycleBaseUrl: base,
        addonKey: running.addon.key,
        clientKey,
        baseUrl,
        sharedSecret,
      });
      await other.install();
      return other;
    },
    advance: async (ms) => {
      await http().post('/sim/clock/advance').send({ ms }).expect(200);
    },
    travel: (ms) => {
      offset += ms;
    },
    stats: async () => (await http().get('/sim/stats').expect(200)).body as SimStats,
    close: async () => {
      await running.close();
      if (previousCdn === undefined) delete process.env.CONNECT_KEYS_CDN_URL;
      else process.env.CONNECT_KEYS_CDN_URL = previousCdn;
      if (options.redis) await deleteKeys(keyPrefix);
    },
  };
  return testApp;
}

/** Deletes every key under `prefix` from the shared Redis (never a flush). */

/** The values of an attribute in a page (the views quote attributes with `'`). */
export function attributes(html: string, name: string): string[] {
  return [...html.matchAll(new RegExp(`\\s${name}=['"]([^'"]*)['"]`, 'g'))].map((m) => unescapeHtml(m[1]));
}

/** The `data-state` of a macro page: ready, connect, reconnect, error or neutral. */
export function stateOf(html: string): string | undefined {
  return attributes(html, 'data-state')[0];
}

/** The `data-result` of a consent popup page. */
export function resultOf(html: string): string | undefined {
  return attributes(html, 'data-result')[0];
}

/** The issue keys of a rendered issue table. */
export function issueKeys(html: string): string[] {
  return attributes(html, 'data-issue');
}

/** Handlebars escapes `&`, `=`, quotes and the like in attributes. */
export function unescapeHtml(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
