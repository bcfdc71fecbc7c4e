// The popup's pages, as plain template functions: every value HTML-escaped, no template engine.
// Their only script is the router's own browser helper, their only style an inline sheet that the
// Content-Security-Policy allows by hash.

import { createHash } from 'node:crypto';
import type { SiteOption } from './granted-sites';

/** How a consent shown in the popup ended, and the status it is answered with. */
export const CONSENT_RESULTS = Object.freeze({
  connected: {
    status: 200,
    title: 'Jira connected',
    message: 'Jira is connected. You can close this window.',
  },
  denied: { status: 200, title: 'Jira not connected', message: 'You did not allow access to Jira.' },
  expired: {
    status: 400,
    title: 'Link expired',
    message: 'This sign-in has expired or was already used. Close this window and start again.',
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
      'You allowed access with another Atlassian account than the one you are signed in with. Nothing was saved.',
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
});

/** A result page's result. */
export type ConsentResult = keyof typeof CONSENT_RESULTS;

const STYLE =
  'body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#172b4d}' +
  'main{max-width:32rem;margin:3rem auto;padding:0 1.5rem}' +
  'h1{font-size:1.3rem}button{font:inherit;padding:.4rem 1rem;cursor:pointer}' +
  'label{display:block;margin:.5rem 0}code{color:#5e6c84}';

/** The Content-Security-Policy of the pages: own script, the inline sheet, forms back to the router. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  `style-src 'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`,
  // The site picker posts to <mount>/site.
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** `text` safe in element content and in quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`);
}

/** The popup's last page: what happened; the helper script tells the opener and closes on success. */
export function resultPage(result: ConsentResult): string {
  const { title, message } = CONSENT_RESULTS[result];
  return page(
    title,
    `<main data-jtr-consent data-result="${escapeHtml(result)}">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
<button type="button" data-action="close">Close this window</button>
</main>`,
  );
}

/** The site picker, for a grant that does not include the tenant's site. */
export function siteChoicePage(sites: SiteOption[]): string {
  const options = sites
    .map(
      (site) =>
        `<label><input type="radio" name="cloudId" value="${escapeHtml(site.cloudId)}" required> ` +
        `${escapeHtml(site.name)} <code>${escapeHtml(site.url)}</code></label>`,
    )
    .join('\n');
  return page(
    'Choose your Jira site',
    `<main data-jtr-consent data-result="choose_site">
<h1>Choose your Jira site</h1>
<p>The access you allowed does not include the Jira site this app is used with. Which of your Jira sites should it use?</p>
<form method="post" action="site">
${options}
<button type="submit" data-action="choose-site">Use this site</button>
</form>
</main>`,
  );
}

// Relative URLs: the pages are served at <mount>/connect, /callback and /site, so `consent.js`
// and `site` are the router's own, wherever it is mounted.
function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
<script src="consent.js"></script>
</body>
</html>
`;
}
