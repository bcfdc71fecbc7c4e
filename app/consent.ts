// The end of a consent: exchange the code, check that the consenting Atlassian account is the
// Connect user (invariant 8), pick the Jira site of the user's Confluence (or let the user pick
// one of theirs), and save the tokens.

import {
  type JiraSite,
  type Logger,
  type OAuthClient,
  TokenExchangeError,
  type TokenManager,
  type TokenResponse,
  type UserRef,
} from 'jira-token-rotation';

/** What {@link completeConsent} needs. */
export interface ConsentDeps {
  oauth: Pick<OAuthClient, 'exchangeCode'>;
  tokens: Pick<TokenManager, 'save'>;
  fetch: typeof fetch;
  /** `https://api.atlassian.com/me`. */
  meUrl: string;
  /** `https://api.atlassian.com/oauth/token/accessible-resources`. */
  resourcesUrl: string;
  /** The redirect URI the authorize request named (the exchange must repeat it). */
  redirectUri: string;
  logger: Logger;
  /** Timeout of each identity call, ms. Default 10 000. */
  timeoutMs?: number;
}

/** One of the user's Jira sites, as the site picker shows it. */
export interface SiteOption extends JiraSite {
  name: string;
}

/** How a consent ended. */
export type ConsentOutcome =
  | { kind: 'connected'; site: JiraSite }
  /** The grant does not include the site of this Confluence: the user picks one of `sites`. */
  | { kind: 'choose_site'; tokens: TokenResponse; sites: SiteOption[] }
  /** The consent was given by another Atlassian account than the Connect user: nothing saved. */
  | { kind: 'wrong_account' }
  /** The grant reaches no Jira site with the macro's scope: nothing saved. */
  | { kind: 'site_not_granted' }
  /** The code was refused (expired or used twice). */
  | { kind: 'code_rejected' }
  /** Atlassian failed or answered something unusable. */
  | { kind: 'unavailable' };

/** The scope the macro needs on a site. */
const REQUIRED_SITE_SCOPE = 'read:jira-work';

/**
 * Exchanges `code`, then checks identity and site before saving anything.
 * @param tenantBaseUrl the Confluence base URL of the installation, e.g. `https://x.atlassian.net/wiki`.
 */
export async function completeConsent(
  deps: ConsentDeps,
  user: UserRef,
  tenantBaseUrl: string,
  code: string,
): Promise<ConsentOutcome> {
  const who = { clientKey: user.clientKey, accountId: user.accountId };
  let exchanged;
  try {
    exchanged = await deps.oauth.exchangeCode(code, deps.redirectUri);
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
  const sites = grantedSites(resources.body);
  if (sites.length === 0) return refused(deps, who, 'site_not_granted', 'the grant reaches no Jira site');
  const tokens: TokenResponse = {
    access_token: exchanged.accessToken,
    refresh_token: exchanged.refreshToken,
    expires_in: exchanged.expiresInSeconds,
    scope: exchanged.scope,
  };
  const site = siteOfTenant(sites, tenantBaseUrl);
  if (!site) return { kind: 'choose_site', tokens, sites };
  await saveConsent(deps, user, tokens, site);
  return { kind: 'connected', site };
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

/** The accessible resources that grant the macro's scope. The list's order means nothing. */
export function grantedSites(resources: unknown[]): SiteOption[] {
  const sites: SiteOption[] = [];
  for (const resource of resources) {
    const { id, url, name, scopes } = (resource ?? {}) as Record<string, unknown>;
    const origin = typeof url === 'string' ? originOf(url) : undefined;
    if (typeof id !== 'string' || id === '' || origin === undefined) continue;
    if (!Array.isArray(scopes) || !scopes.includes(REQUIRED_SITE_SCOPE)) continue;
    sites.push({ cloudId: id, url: origin, name: typeof name === 'string' && name !== '' ? name : origin });
  }
  return sites;
}

/** The site on the origin of the Confluence site: `https://x.atlassian.net/wiki` → `https://x.atlassian.net`. */
export function siteOfTenant(sites: SiteOption[], tenantBaseUrl: string): SiteOption | undefined {
  const origin = originOf(tenantBaseUrl);
  return origin === undefined ? undefined : sites.find((site) => site.url === origin);
}

function originOf(url: string): string | undefined {
  try {
    const { origin } = new URL(url);
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
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
      signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
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
