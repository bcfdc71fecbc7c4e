// The consent flow as one request handler, mounted by the vendor at a base path, e.g.
// `app.use('/jira', consentRouter({...}))`. A small dispatcher on method and path rather than
// express.Router(), so the package never loads express at run time and works under express 4 and 5:
//   POST /launch     (page, authenticated)    → `{launch}`: a launch token for the resolved user
//   POST /connect    (popup, form post)        → the launch claimed, a single-use state, a nonce
//                                                cookie, 303 to the authorize page
//   GET  /callback   (popup, from Atlassian)   → state taken, cookie checked, code exchanged, the
//                                                `/me` account and the site checked, tokens saved
//   POST /site       (popup, only when the grant lacks the tenant's site) → the user's pick
//   GET  /status, POST /disconnect (page, authenticated), GET /consent.js (the browser helper)

import { STATUS_CODES } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { JiraTokenError } from '../errors';
import { assertValidUser } from '../valid-user';
import type { UserRef } from '../types';
import { browserHelper } from './browser-helper';
import { type ConsentDeps, completeConsent, saveConsent } from './complete-consent';
import { CONSENT_RESULTS, type ConsentResult, PAGE_CSP, resultPage, siteChoicePage } from './consent-pages';
import {
  type ConsentRouterOptions,
  type ResolvedConsentOptions,
  resolveConsentOptions,
} from './consent-router-options';
import { flowStores } from './flow-stores';
import { readFormBody, singleValues } from './form-body';
import { sendEmpty, sendHtml, sendJson, sendText, setFlowPageHeaders, setNoStore } from './http-answers';
import type { LaunchTokens } from './launch-tokens';
import { clientAddress, hasParam, requestTarget } from './request-target';

/** The consent router: an Express-compatible request handler (express 4 and 5). */
export interface ConsentRouter {
  (req: Request, res: Response, next: NextFunction): void;
  /**
   * The launch tokens this router issues at `POST /launch` and accepts at `POST /connect`: to issue
   * one from a route of your own, or to check one in a test.
   */
  readonly launches: LaunchTokens;
}

type Handler = (req: Request, res: Response, next: NextFunction) => Promise<void>;

/** Timeout of each identity call (`/me`, accessible-resources), ms. */
const IDENTITY_TIMEOUT_MS = 10_000;

/**
 * Makes the consent router. Options are checked here, once.
 * @throws TypeError naming the option that is missing or wrong.
 */
export function consentRouter(options: ConsentRouterOptions): ConsentRouter {
  const o = resolveConsentOptions(options);
  const { launches, launchNonces, states, siteChoices, limiter } = flowStores(o);
  const serveHelper = browserHelper();
  const consentDeps: ConsentDeps = {
    tokens: o.tokens,
    fetch: o.fetch,
    meUrl: o.meUrl,
    resourcesUrl: o.resourcesUrl,
    redirectUri: o.callbackUrl,
    requiredSiteScope: o.requiredSiteScope,
    logger: o.logger,
    timeoutMs: IDENTITY_TIMEOUT_MS,
  };

  /** Hits the route's limit for the user, or the client address; answers 429 when over. */
  const withinLimit = async (route: string, user: UserRef | null, req: Request, res: Response) => {
    const who = user
      ? `user:${JSON.stringify([user.clientKey, user.accountId])}`
      : `ip:${clientAddress(req)}`;
    const decision = await limiter.hit(`${route}:${who}`);
    if (decision.allowed) return true;
    res.setHeader('Retry-After', String(decision.retryAfterSeconds));
    sendText(res, 429, 'Too Many Requests');
    return false;
  };

  /** The page's routes: no-store, `authenticate`, then the user (400 for an invalid one). */
  const fromPage =
    (then: (req: Request, res: Response, user: UserRef | null) => Promise<void>): Handler =>
    async (req, res, next) => {
      setNoStore(res);
      if (!(await authenticate(o, req, res, next))) return;
      const user = resolveUser(o, req, res);
      if (user !== 'answered') await then(req, res, user);
    };
  const anonymous = (res: Response) => sendJson(res, 403, { error: 'anonymous' });

  const routes: Record<string, Handler> = {
    'POST /launch': fromPage(async (req, res, user) => {
      if (!(await withinLimit('launch', user, req, res))) return;
      if (!user) return anonymous(res);
      sendJson(res, 200, { launch: launches.issue(user) });
    }),

    'POST /connect': async (req, res) => {
      setFlowPageHeaders(res, PAGE_CSP);
      const body = await readFormBody(req);
      if (!body.ok) return sendText(res, body.status, STATUS_CODES[body.status]!);
      const launch = launches.verify(body.fields.get('launch'));
      // Before the nonce is claimed: a refused launch can still be used once the window passes.
      if (!(await withinLimit('connect', launch?.user ?? null, req, res))) return;
      // A launch token starts one consent: its nonce is claimed for the rest of its life.
      const fresh =
        launch && (await launchNonces.add(launch.nonce, '1', Math.max(1, launch.expiresAt - o.now())));
      if (!launch || !fresh) return showResult(res, 'expired');
      const state = await states.start(res, launch.user);
      const authorize = new URL(o.authorizeUrl);
      const params = {
        audience: 'api.atlassian.com',
        client_id: o.tokens.oauthApp.clientId,
        scope: o.scope,
        redirect_uri: o.callbackUrl,
        state,
        response_type: 'code',
        prompt: 'consent',
      };
      for (const [name, value] of Object.entries(params)) authorize.searchParams.set(name, value);
      // No body: a redirect's text would repeat the URL, state included.
      sendEmpty(res, 303, authorize.toString());
    },

    'GET /callback': async (req, res) => {
      setFlowPageHeaders(res, PAGE_CSP);
      const { query } = requestTarget(req);
      const fields = singleValues(query);
      const user = await states.finish(req, res, fields.get('state'));
      // After the state is taken (it is single-use whatever follows): a limited callback exchanges no code.
      if (!(await withinLimit('callback', typeof user === 'string' ? null : user, req, res))) return;
      if (typeof user === 'string') return showResult(res, user);
      if (hasParam(query, 'error')) {
        o.logger.info({ event: 'consent_denied', ...user }, 'The user did not allow Jira access');
        return showResult(res, 'denied');
      }
      const code = fields.get('code');
      if (!code) return showResult(res, 'expired');
      const site = o.tenantSiteUrl ? await o.tenantSiteUrl(user) : undefined;
      if (site === null) return showResult(res, 'not_installed');
      const outcome = await completeConsent(consentDeps, user, site, code);
      if (outcome.kind !== 'choose_site') return showResult(res, outcome.kind);
      await siteChoices.offer(res, { user, tokens: outcome.tokens, sites: outcome.sites });
      sendHtml(res, 200, siteChoicePage(outcome.sites));
    },

    'POST /site': async (req, res) => {
      setFlowPageHeaders(res, PAGE_CSP);
      const body = await readFormBody(req);
      if (!body.ok) return sendText(res, body.status, STATUS_CODES[body.status]!);
      const choice = await siteChoices.take(req, res);
      if (!choice) return showResult(res, 'expired');
      const cloudId = body.fields.get('cloudId');
      const site = choice.sites.find((s) => s.cloudId === cloudId);
      // Not one of the user's sites: the choice is spent all the same, as any other misuse.
      if (!site) return showResult(res, 'expired');
      // An uninstall may have come while the user was choosing: its purge must stay final.
      if (o.tenantSiteUrl && (await o.tenantSiteUrl(choice.user)) === null)
        return showResult(res, 'not_installed');
      await saveConsent(consentDeps, choice.user, choice.tokens, site);
      showResult(res, 'connected');
    },

    'GET /status': fromPage(async (_req, res, user) => {
      if (!user) return anonymous(res);
      const status = await o.tokens.status(user);
      sendJson(res, 200, {
        connected: status !== null && status.state !== 'reauthorization_required',
        state: status?.state ?? 'not_connected',
        // Only while it holds: a renewal waits for it to go away.
        ...(status?.reconnectSoon ? { reconnectSoon: true } : {}),
        site: status?.site?.url,
      });
    }),

    'POST /disconnect': fromPage(async (_req, res, user) => {
      if (!user) return anonymous(res);
      await o.tokens.disconnect(user);
      sendEmpty(res, 204);
    }),

    'GET /consent.js': async (req, res) => serveHelper(req, res),
  };

  const router = (req: Request, res: Response, next: NextFunction): void => {
    const { path } = requestTarget(req);
    // HEAD only for the script: a HEAD must never spend a state or a launch.
    const method = req.method === 'HEAD' && path === '/consent.js' ? 'GET' : req.method;
    const handler = routes[`${method} ${path}`];
    if (!handler) return next();
    handler(req, res, next).catch(next);
  };
  return Object.assign(router, { launches });
}

function showResult(res: Response, result: ConsentResult): void {
  sendHtml(res, CONSENT_RESULTS[result].status, resultPage(result));
}

/**
 * Runs `authenticate` in order, as Express would. Resolves true once all have passed; false when
 * one handed an error to `next` (passed on to the app's error handler); never when one answered.
 */
function authenticate(
  o: ResolvedConsentOptions,
  req: Request,
  res: Response,
  next: NextFunction,
): Promise<boolean> {
  return new Promise((resolve) => {
    const step = (index: number): void => {
      const handler = o.authenticate[index];
      if (!handler) return resolve(true);
      let called = false;
      const proceed = (error?: unknown): void => {
        if (called) return;
        called = true;
        if (error !== undefined && error !== null && error !== false) {
          resolve(false);
          next(error);
        } else step(index + 1);
      };
      try {
        const result: unknown = handler(req, res, proceed);
        // Express 5 style handlers may reject instead of calling next.
        if (result && typeof (result as Promise<unknown>).then === 'function')
          (result as Promise<unknown>).then(undefined, (error: unknown) =>
            proceed(error ?? new Error('rejected')),
          );
      } catch (error) {
        proceed(error);
      }
    };
    step(0);
  });
}

/** The resolved user, null for anonymous, or 'answered' (400) for one the token store would refuse. */
function resolveUser(o: ResolvedConsentOptions, req: Request, res: Response): UserRef | null | 'answered' {
  let user: UserRef | null | undefined;
  try {
    user = o.resolveUser(req);
  } catch (error) {
    if (!(error instanceof JiraTokenError && error.status === 400)) throw error;
    sendJson(res, 400, { error: error.code });
    return 'answered';
  }
  if (!user) return null;
  try {
    assertValidUser(user);
  } catch (error) {
    sendJson(res, 400, { error: (error as JiraTokenError).code });
    return 'answered';
  }
  return { clientKey: user.clientKey, accountId: user.accountId };
}
