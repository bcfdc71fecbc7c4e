// The sandbox (no Atlassian credentials): a stand-in Confluence page on another origin than the
// app, framing N macros with their signed URLs, and the token service its `AP` stand-in calls.
// Being Confluence, this page is the one place where Connect JWTs appear in rendered HTML.

import express, { type Router } from 'express';
import { DEFAULT_ACCOUNTS } from '../sim';
import type { SandboxTenant } from '../app/sandbox-tenant';
import { ADMIN_PATH, MACRO_PATH, type RouteDeps } from './types';

const MAX_MACROS = 100;
const SANDBOX_PAGE_ID = '65537';
const DEFAULT_MACROS = 3;
const ANONYMOUS = 'anonymous';

/** GET /sandbox and POST /sandbox/context-token. */
export function sandboxRoutes(
  deps: Pick<RouteDeps, 'urls' | 'headers'> & { sandbox: SandboxTenant },
): Router {
  const { urls, headers, sandbox } = deps;
  const sandboxHost = new URL(urls.sandboxOrigin).host;
  const appOrigin = new URL(urls.localBaseUrl).origin;
  /** The sandbox's users: the simulator's accounts, or nobody. */
  const userOf = (value: unknown): string | undefined | null => {
    if (value === undefined || value === '') return DEFAULT_ACCOUNTS[0].accountId;
    if (value === ANONYMOUS) return undefined;
    return DEFAULT_ACCOUNTS.some((a) => a.accountId === value) ? (value as string) : null;
  };

  const router = express.Router();

  router.get('/sandbox', headers.sandboxPage, (req, res) => {
    // On the app's own origin the macros would be same-origin with the page: move to the other one.
    if (req.get('host') !== sandboxHost) return res.redirect(302, `${urls.sandboxOrigin}${req.originalUrl}`);
    const accountId = userOf(req.query.user);
    if (accountId === null) return void res.status(400).type('text').send('Unknown sandbox user');
    const requested = Number(req.query.macros ?? DEFAULT_MACROS);
    const count = Number.isInteger(requested) ? Math.min(Math.max(requested, 1), MAX_MACROS) : DEFAULT_MACROS;
    // The descriptor's URL template, filled in as Confluence does for a page that shows the macro.
    const macros = Array.from({ length: count }, (_, i) => ({
      index: i + 1,
      src: sandbox.iframeUrl(
        `${MACRO_PATH}?${new URLSearchParams({
          pageId: SANDBOX_PAGE_ID,
          macroId: `sandbox-macro-${i + 1}`,
          outputType: 'display',
          jql: 'order by created DESC',
          maxResults: '5',
        }).toString()}`,
        accountId,
        urls.sandboxOrigin,
      ),
    }));
    res.render('sandbox', {
      title: `Sandbox page: ${count} Jira macros`,
      scripts: ['/public/sandbox-host.js'],
      macros,
      count,
      appOrigin,
      user: accountId ?? ANONYMOUS,
      // Confluence shows admin pages to site admins only; in the sandbox every signed-in user is one.
      adminUrl: accountId && sandbox.iframeUrl(ADMIN_PATH, accountId, urls.sandboxOrigin),
      users: [...DEFAULT_ACCOUNTS.map((a) => a.accountId), ANONYMOUS].map((id) => ({
        id,
        href: `?${new URLSearchParams({ macros: String(count), user: id }).toString()}`,
      })),
    });
  });

  // What Confluence answers to `AP.context.getToken()`. JSON only, so another site's page cannot
  // post here without a CORS preflight, which is never granted.
  router.post('/sandbox/context-token', headers.noStore, (req, res) => {
    if (!req.is('application/json') || req.get('host') !== sandboxHost) return void res.status(403).end();
    const accountId = userOf((req.body as Record<string, unknown> | undefined)?.user);
    if (accountId === null) return void res.status(400).json({ error: 'unknown_user' });
    res.json({ token: sandbox.contextJwt(accountId) });
  });

  return router;
}
