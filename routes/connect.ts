// Connecting Jira, in a popup (Atlassian's consent page refuses to be framed):
//   1. POST /jira/launch   (iframe, Connect JWT)   → a launch token for the verified user
//   2. POST /jira/connect  (popup, form post)      → the launch claimed, a single-use state, a nonce
//                                                   cookie, 303 to the authorize page
//   3. GET  /jira/callback (popup, from Atlassian) → state taken, cookie checked, code exchanged, the
//                                                   `/me` account and the site checked, tokens saved
//   4. POST /jira/site     (popup, only when the grant lacks this Confluence's Jira) → the user's pick
// and, from the iframe: GET /jira/status (polled until connected) and POST /jira/disconnect.

import express, { type Request, type Response, type Router } from 'express';
import type { UserRef } from 'jira-token-rotation';
import { connectUser, forgetAceSessionToken } from '../app/ace-context';
import { asyncRoute } from '../app/async-route';
import { connectJwtPrecheck } from '../app/connect-jwt-precheck';
import { completeConsent, saveConsent } from '../app/consent';
import { rateLimited, withinRateLimit } from '../app/rate-limiter';
import { OAUTH_SCOPES } from '../app/urls';
import type { RouteDeps } from './index';

/** The popup's result pages: what happened, and the status it is answered with. */
const RESULTS = {
  connected: {
    status: 200,
    title: 'Jira connected',
    message: 'Jira is connected. You can close this window.',
  },
  denied: { status: 200, title: 'Jira not connected', message: 'You did not allow access to Jira.' },
  expired: {
    status: 400,
    title: 'Link expired',
    message:
      'This sign-in has expired or was already used. Close this window and click "Connect Jira" again.',
  },
  other_browser: {
    status: 400,
    title: 'Sign-in not recognised',
    message: 'This sign-in was started in another browser window. Close this window and start again.',
  },
  not_installed: {
    status: 400,
    title: 'App not installed',
    message: 'The app is no longer installed on this site.',
  },
  wrong_account: {
    status: 403,
    title: 'Wrong Atlassian account',
    message:
      'You allowed access with another Atlassian account than the one you use in Confluence. Nothing was saved.',
  },
  site_not_granted: {
    status: 403,
    title: 'No Jira site granted',
    message: 'The access you allowed does not include any Jira site. Nothing was saved.',
  },
  code_rejected: {
    status: 400,
    title: 'Sign-in expired',
    message: 'Atlassian did not accept the sign-in (it may have expired). Close this window and try again.',
  },
  unavailable: {
    status: 503,
    title: 'Atlassian is unavailable',
    message: 'Atlassian could not be reached. Close this window and try again in a moment.',
  },
} as const;
type Result = keyof typeof RESULTS;

const POPUP_SCRIPTS = ['/public/connect-result.js'];

/** The connect, status and disconnect routes. */
export function connectRoutes(deps: RouteDeps): Router {
  const {
    addon,
    tokens,
    headers,
    launches,
    launchNonces,
    states,
    siteChoices,
    endpoints,
    urls,
    logger,
    rateLimits,
  } = deps;
  const redirectUri = `${urls.localBaseUrl}/jira/callback`;
  const consentDeps = {
    oauth: deps.oauth,
    tokens,
    fetch: deps.fetch,
    meUrl: endpoints.meUrl,
    resourcesUrl: endpoints.resourcesUrl,
    redirectUri,
    logger,
  };
  const showResult = (res: Response, result: Result): void => {
    const { status, title, message } = RESULTS[result];
    res.status(status).render('connect-result', { title, message, result, scripts: POPUP_SCRIPTS });
  };

  // Calls from the macro's iframe: a context JWT (AP.context.getToken), never a cookie, never cached.
  const fromIframe = [
    headers.noStore,
    connectJwtPrecheck({ logger, contextTokensOnly: true }),
    addon.checkValidToken(),
    forgetAceSessionToken,
  ];

  const router = express.Router();

  // Rate limits count per verified user, or per client address when a request carries none.
  router.post('/jira/launch', ...fromIframe, rateLimited(rateLimits.launch, connectUser), (req, res) => {
    const user = requireUser(req, res);
    if (user) res.json({ launch: launches.issue(user) });
  });

  router.post(
    '/jira/connect',
    headers.flowPage,
    asyncRoute(async (req, res) => {
      const launch = launches.verify((req.body as Record<string, unknown> | undefined)?.launch);
      // Before the nonce is claimed: a refused launch can still be used once the window passes.
      if (!(await withinRateLimit(rateLimits.connect, launch?.user ?? null, req, res))) return;
      // A launch token starts one consent: its nonce is claimed for the rest of its life.
      const fresh =
        launch && (await launchNonces.add(launch.nonce, '1', Math.max(1, launch.expiresAt - deps.now())));
      if (!launch || !fresh) return showResult(res, 'expired');
      const state = await states.start(res, launch.user);
      const authorize = new URL(endpoints.authorizeUrl);
      authorize.search = new URLSearchParams({
        audience: 'api.atlassian.com',
        client_id: deps.config.oauth.clientId,
        scope: OAUTH_SCOPES,
        redirect_uri: redirectUri,
        state,
        response_type: 'code',
        prompt: 'consent',
      }).toString();
      // No body: Express's redirect text would repeat the URL, state included.
      res.status(303).location(authorize.toString()).end();
    }),
  );

  router.get(
    '/jira/callback',
    headers.flowPage,
    asyncRoute(async (req, res) => {
      const { state, code, error } = req.query;
      const user = await states.finish(req, res, state);
      // After the state is taken (it is single-use whatever follows): a limited callback exchanges no code.
      const limited = !(await withinRateLimit(
        rateLimits.callback,
        typeof user === 'string' ? null : user,
        req,
        res,
      ));
      if (limited) return;
      if (typeof user === 'string') return showResult(res, user);
      if (error !== undefined) {
        logger.info({ event: 'consent_denied', ...user }, 'The user did not allow Jira access');
        return showResult(res, 'denied');
      }
      if (typeof code !== 'string' || code === '') return showResult(res, 'expired');
      const installation = (await addon.settings.get('clientInfo', user.clientKey)) as {
        baseUrl?: unknown;
      } | null;
      if (typeof installation?.baseUrl !== 'string') return showResult(res, 'not_installed');
      const outcome = await completeConsent(consentDeps, user, installation.baseUrl, code);
      if (outcome.kind !== 'choose_site') return showResult(res, outcome.kind);
      await siteChoices.offer(res, { user, tokens: outcome.tokens, sites: outcome.sites });
      res.render('choose-site', {
        title: 'Choose your Jira site',
        sites: outcome.sites,
        scripts: POPUP_SCRIPTS,
      });
    }),
  );

  router.post(
    '/jira/site',
    headers.flowPage,
    asyncRoute(async (req, res) => {
      const choice = await siteChoices.take(req, res);
      if (!choice) return showResult(res, 'expired');
      const cloudId = (req.body as Record<string, unknown> | undefined)?.cloudId;
      const site = choice.sites.find((s) => s.cloudId === cloudId);
      // Not one of the user's sites: the choice is spent all the same, as any other misuse.
      if (!site) return showResult(res, 'expired');
      // An uninstall may have come while the user was choosing: its purge must stay final.
      if (!(await addon.settings.get('clientInfo', choice.user.clientKey)))
        return showResult(res, 'not_installed');
      await saveConsent(consentDeps, choice.user, choice.tokens, site);
      showResult(res, 'connected');
    }),
  );

  router.get(
    '/jira/status',
    ...fromIframe,
    asyncRoute(async (req, res) => {
      const user = requireUser(req, res);
      if (!user) return;
      const status = await tokens.status(user);
      res.json({
        connected: status !== null && status.state !== 'reauthorization_required',
        state: status?.state ?? 'not_connected',
        // Only while it holds: the macro's renewal waits for it to go away.
        ...(status?.reconnectSoon ? { reconnectSoon: true } : {}),
        site: status?.site?.url,
      });
    }),
  );

  router.post(
    '/jira/disconnect',
    ...fromIframe,
    asyncRoute(async (req, res) => {
      const user = requireUser(req, res);
      if (!user) return;
      await tokens.disconnect(user);
      res.status(204).end();
    }),
  );

  return router;
}

/** The verified Connect user; an anonymous viewer gets a 403. */
function requireUser(req: Request, res: Response): UserRef | null {
  const user = connectUser(req);
  if (!user) res.status(403).json({ error: 'anonymous' });
  return user;
}
