// The end of a consent: exchange the code (through the token manager's own OAuth client), check
// that the consenting Atlassian account is the user who started it, pick the Jira site of the
// user's tenant (or let the user pick one of theirs), and save the tokens.

import { TokenExchangeError } from '../oauth/oauth-client';
import type { Logger } from '../logger';
import type { TokenManager } from '../manager/token-manager';
import type { JiraSite, TokenResponse, UserRef } from '../types';
import { type SiteOption, grantedSites, siteOfTenant } from './granted-sites';

/** What {@link completeConsent} needs. */
export interface ConsentDeps {
  tokens: Pick<TokenManager, 'exchangeCode' | 'save'>;
  fetch: typeof fetch;
  /** `https://api.atlassian.com/me`. */
  meUrl: string;
  /** `https://api.atlassian.com/oauth/token/accessible-resources`. */
  resourcesUrl: string;
  /** The redirect URI the authorize request named (the exchange must repeat it). */
  redirectUri: string;
  /** The scope a site must grant to be offered. */
  requiredSiteScope: string;
  logger: Logger;
  /** Timeout of each identity call, ms. */
  timeoutMs: number;
}

/** How a consent ended. */
export type ConsentOutcome =
  | { kind: 'connected'; site: JiraSite }
  /** The grant does not include the tenant's site: the user picks one of `sites`. */
  | { kind: 'choose_site'; tokens: TokenResponse; sites: SiteOption[] }
  /** The consent was given by another Atlassian account than the user: nothing saved. */
  | { kind: 'wrong_account' }
  /** The grant reaches no Jira site with the required scope: nothing saved. */
  | { kind: 'site_not_granted' }
  /** The code was refused (expired or used twice). */
  | { kind: 'code_rejected' }
  /** Atlassian failed or answered something unusable. */
  | { kind: 'unavailable' };

/**
 * Exchanges `code`, then checks identity and site before saving anything.
 * @param tenantSiteUrl the site to bind to (origins are compared), e.g. `https://x.atlassian.net/wiki`;
 *   `undefined`: no preference, the one granted site, else the user's choice.
 */
export async function completeConsent(
  deps: ConsentDeps,
  user: UserRef,
  tenantSiteUrl: string | undefined,
  code: string,
): Promise<ConsentOutcome> {
  const who = { clientKey: user.clientKey, accountId: user.accountId };
  let exchanged;
  try {
    exchanged = await deps.tokens.exchangeCode(code, deps.redirectUri);
  } catch (error) {
    if (!(error instanceof TokenExchangeError)) throw error;
    deps.logger.warn({ event: 'consent_exchange_failed', ...who, reason: error.reason }, error.message);
    return { kind: error.reason === 'invalid_grant' ? 'code_rejected' : 'unavailable' };
  }
  const get = (url: string) => getJson(deps, url, exchanged.accessToken);
  const me = await get(deps.meUrl);
  if (!me.ok) return refused(deps, who, 'unavailable', `identity answered ${me.status}`);
  const accountId = (me.body as { account_id?: unknown } | null)?.account_id;
  if (accountId !== user.accountId) return refused(deps, who, 'wrong_account', 'another account consented');
  const resources = await get(deps.resourcesUrl);
  if (!resources.ok || !Array.isArray(resources.body)) {
    return refused(deps, who, 'unavailable', `accessible-resources answered ${resources.status}`);
  }
  const sites = grantedSites(resources.body, deps.requiredSiteScope);
  if (sites.length === 0) return refused(deps, who, 'site_not_granted', 'the grant reaches no Jira site');
  const tokens: TokenResponse = {
    access_token: exchanged.accessToken,
    refresh_token: exchanged.refreshToken,
    expires_in: exchanged.expiresInSeconds,
    scope: exchanged.scope,
  };
  const site =
    tenantSiteUrl === undefined
      ? sites.length === 1
        ? sites[0]
        : undefined
      : siteOfTenant(sites, tenantSiteUrl);
  if (!site) return { kind: 'choose_site', tokens, sites };
  await saveConsent(deps, user, tokens, site);
  return { kind: 'connected', site: { cloudId: site.cloudId, url: site.url } };
}

/** Saves a checked consent: a new token generation for the user, on `site`. */
export async function saveConsent(
  deps: Pick<ConsentDeps, 'tokens' | 'logger'>,
  user: UserRef,
  tokens: TokenResponse,
  site: JiraSite,
): Promise<void> {
  await deps.tokens.save(user, tokens, { cloudId: site.cloudId, url: site.url });
  deps.logger.info(
    {
      event: 'consent_completed',
      clientKey: user.clientKey,
      accountId: user.accountId,
      cloudId: site.cloudId,
    },
    'Jira connected',
  );
}

async function getJson(
  deps: ConsentDeps,
  url: string,
  accessToken: string,
): Promise<{ ok: boolean; status: number | string; body: unknown }> {
  try {
    const response = await deps.fetch(url, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    const body: unknown = await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, body };
  } catch (error) {
    return { ok: false, status: error instanceof Error ? error.name : 'error', body: null };
  }
}

function refused(
  deps: ConsentDeps,
  who: UserRef,
  kind: Exclude<ConsentOutcome['kind'], 'connected' | 'choose_site'>,
  detail: string,
): ConsentOutcome {
  deps.logger.warn({ event: 'consent_refused', ...who, reason: kind }, `Jira consent not saved: ${detail}`);
  return { kind } as ConsentOutcome;
}
