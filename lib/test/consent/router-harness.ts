// A plain express app (4 or 5) with only the consent router mounted at /jira, a header-based user
// (`x-user: <accountId>`, tenant `tenant-1`), a token manager and the simulator on loopback ports:
// what a vendor without Connect builds. Records every token-endpoint request the manager makes.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express4, { type ErrorRequestHandler, type Request } from 'express';
import express5 from 'express5';
import request from 'supertest';
import { InvalidUserError } from '../../src/errors';
import { consentRouter, type ConsentRouter } from '../../src/consent/consent-router';
import type { ConsentRouterOptions } from '../../src/consent/consent-router-options';
import { createTokenManager } from '../../src/manager/create-token-manager';
import type { TokenManagerOptions } from '../../src/manager/options';
import type { TokenManager } from '../../src/manager/token-manager';
import { type CaptureLogger, captureLogger } from '../../../test/support/capture-logger';
import { type SimServer, startSim } from '../../../test/support/sim-server';
import { nonceCookie } from '../../../test/support/nonce-cookie';

export { nonceCookie };

export const TENANT = 'tenant-1';
export const USER = 'sim-user-1';
/** Reaches both of the simulator's sites. */
export const OTHER_USER = 'sim-user-2';

/** The two express majors the package's peer range promises. */
export const EXPRESS_MAJORS = [
  ['express 4', express4],
  ['express 5', express5],
] as const;
type ExpressFactory = (typeof EXPRESS_MAJORS)[number][1];
/** Their installed versions, so a suite can show it runs on both. */
export const EXPRESS_VERSIONS = ['express', 'express5'].map(
  (name) =>
    (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string })
      .version,
);

export interface HarnessOptions {
  router?: Partial<ConsentRouterOptions>;
  /** A page of the app, served at GET /. */
  page?: string;
  /** Mount the express major's own JSON and form parsers before the router, as many apps do. */
  parsers?: boolean;
  manager?: Partial<TokenManagerOptions>;
}

/** One token-endpoint request, as sent. */
export interface TokenRequest {
  contentType: string | null;
  body: string;
}

export interface RouterHarness {
  /** The app over loopback. */
  base: string;
  sim: SimServer;
  tokens: TokenManager;
  consent: ConsentRouter;
  logger: CaptureLogger;
  /** Errors that reached the app's error handler. */
  errors: unknown[];
  tokenRequests: TokenRequest[];
  http(): ReturnType<typeof request>;
  /** Moves the router's clock (launch tokens, states, rate-limit windows). */
  travel(ms: number): void;
  /** POST /jira/launch as `accountId`: the launch token. */
  launch(accountId?: string): Promise<string>;
  /** Launch, then POST /jira/connect: the 303 and its state and nonce cookie. */
  start(accountId?: string): Promise<Started>;
  /** Answers the simulator's consent page for a started consent: the callback URL it redirects to. */
  decide(started: Started, accountId: string, decision?: 'accept' | 'deny'): Promise<URL>;
  /** A whole consent; `consentAs` picks the account on the simulator's page. */
  connect(
    accountId: string,
    options?: { consentAs?: string; decision?: 'accept' | 'deny' },
  ): Promise<request.Response>;
  status(accountId?: string): ReturnType<TokenManager['status']>;
  close(): Promise<void>;
}

export interface Started {
  res: request.Response;
  authorizeUrl: URL;
  state: string;
  cookie: string;
}

/** The `data-result` of a popup page. */
export function resultOf(html: string): string | undefined {
  return /\sdata-result="([^"]*)"/.exec(html)?.[1];
}

/** The header-based user of the harness: `x-user`, or anonymous; `x-user: invalid` throws InvalidUserError. */
function headerUser(req: Request) {
  const accountId = req.headers['x-user'];
  if (accountId === undefined) return null;
  if (accountId === 'invalid') throw new InvalidUserError();
  return { clientKey: TENANT, accountId: String(accountId) };
}

export async function startRouterHarness(
  express: ExpressFactory,
  options: HarnessOptions = {},
): Promise<RouterHarness> {
  const sim = await startSim();
  const logger = captureLogger();
  const tokenRequests: TokenRequest[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    if (String(input).endsWith('/oauth/token')) {
      const headers = new Headers(init?.headers);
      tokenRequests.push({ contentType: headers.get('content-type'), body: String(init?.body) });
    }
    return fetch(input, init);
  };
  const tokens = createTokenManager({
    clientId: 'sim-client-id',
    clientSecret: 'sim-client-secret',
    tokenUrl: sim.tokenUrl,
    apiBaseUrl: sim.baseUrl,
    fetch: fetchFn,
    ...options.manager,
  });
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let offset = 0;
  const consent = consentRouter({
    tokens,
    resolveUser: headerUser,
    callbackUrl: `${base}/jira/callback`,
    secret: randomBytes(32),
    authorizeUrl: `${sim.baseUrl}/authorize`,
    // An app's own authentication, in front of launch, status and disconnect.
    authenticate: [
      (req, _res, next) =>
        req.headers['x-deny'] ? next(Object.assign(new Error('refused'), { status: 401 })) : next(),
    ],
    rateLimit: { limit: 3, windowMs: 60_000 },
    logger,
    fetch: fetchFn,
    now: () => Date.now() + offset,
    ...options.router,
  });
  const errors: unknown[] = [];
  const app = express();
  const page = options.page;
  if (page !== undefined) app.get('/', (_req, res) => void res.type('html').send(page));
  if (options.parsers) app.use(express.json(), express.urlencoded({ extended: false }));
  app.use('/jira', consent);
  app.use(((error, _req, res, _next) => {
    errors.push(error);
    res
      .status((error as { status?: number }).status ?? 500)
      .type('text')
      .send('app error handler');
  }) as ErrorRequestHandler);
  server.on('request', app);
  const http = () => request(base);

  const launch = async (accountId = USER) =>
    (await http().post('/jira/launch').set('x-user', accountId).expect(200)).body.launch as string;
  const start = async (accountId = USER): Promise<Started> => {
    const res = await http()
      .post('/jira/connect')
      .type('form')
      .send({ launch: await launch(accountId) })
      .expect(303);
    const authorizeUrl = new URL(res.headers.location as string);
    return { res, authorizeUrl, state: authorizeUrl.searchParams.get('state')!, cookie: nonceCookie(res) };
  };
  const decide = async (started: Started, accountId: string, decision: 'accept' | 'deny' = 'accept') => {
    // The simulator's consent page posts its form back to /authorize with the same parameters.
    const decided = await request(sim.baseUrl)
      .post('/authorize')
      .type('form')
      .send({ ...Object.fromEntries(started.authorizeUrl.searchParams), account_id: accountId, decision })
      .expect(302);
    return new URL(decided.headers.location as string);
  };
  const pathOf = (url: URL) => `${url.pathname}${url.search}`;

  return {
    base,
    sim,
    tokens,
    consent,
    logger,
    errors,
    tokenRequests,
    http,
    travel: (ms) => {
      offset += ms;
    },
    launch,
    start,
    decide,
    connect: async (accountId, connectOptions = {}) => {
      const started = await start(accountId);
      const callback = await decide(started, connectOptions.consentAs ?? accountId, connectOptions.decision);
      return http().get(pathOf(callback)).set('cookie', started.cookie);
    },
    status: (accountId = USER) => tokens.status({ clientKey: TENANT, accountId }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tokens.close();
      await sim.close();
    },
  };
}
