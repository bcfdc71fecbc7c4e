// The consent page and the authorize error page; every value that reaches HTML is escaped here.

import type { AuthorizeParams } from './authorize-params';
import { escapeHtml, page } from './html';
import { OFFLINE_ACCESS, parseScopes } from './scopes';
import type { SimAccount } from './types';

/** What the consent page shows. */
export interface ConsentView {
  /** The form's action: `${req.baseUrl}/authorize`, so the page works wherever the sim is mounted. */
  action: string;
  params: AuthorizeParams;
  accounts: readonly SimAccount[];
  selectedAccountId: string;
}

/** A form that posts the validated params back, with an account picker and accept/deny buttons. */
export function renderConsentPage(view: ConsentView): string {
  const { params } = view;
  const hidden: [string, string | undefined][] = [
    ['audience', params.audience],
    ['client_id', params.clientId],
    ['scope', params.scope],
    ['redirect_uri', params.redirectUri],
    ['state', params.state],
    ['response_type', params.responseType],
  ];
  const hiddenHtml = hidden
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  const options = view.accounts
    .map((a) => {
      const selected = a.accountId === view.selectedAccountId ? ' selected' : '';
      const label = `${a.name} (${a.email})`;
      return `<option value="${escapeHtml(a.accountId)}"${selected}>${escapeHtml(label)}</option>`;
    })
    .join('\n');
  const scopes = parseScopes(params.scope);
  const scopeList = scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('\n');
  const offline = scopes.includes(OFFLINE_ACCESS)
    ? ''
    : '<p>Without <code>offline_access</code> the app gets no refresh token.</p>';
  return page(
    'Authorize app - Atlassian simulator',
    `<main>
<h1>Allow access to your Atlassian account?</h1>
<p>The app <strong>${escapeHtml(params.clientId)}</strong> asks for:</p>
<ul>
${scopeList}
</ul>
${offline}
<form method="post" action="${escapeHtml(view.action)}">
${hiddenHtml}
<p><label for="account_id">Account</label>
<select name="account_id" id="account_id">
${options}
</select></p>
<button type="submit" name="decision" value="accept" data-action="accept">Accept</button>
<button type="submit" name="decision" value="deny" data-action="deny">Deny</button>
</form>
</main>`,
  );
}

/** The page of a refused authorize request. */
export function renderErrorPage(message: string): string {
  return page(
    'Something went wrong - Atlassian simulator',
    `<main><h1>Something went wrong</h1><p class="error">${escapeHtml(message)}</p></main>`,
  );
}
