// The Jira sites a grant reaches (Atlassian's accessible resources), and which of them belongs to
// the user's tenant: sites are compared by origin, never by name or list order.

import type { JiraSite } from '../types';

/** One of the user's Jira sites, as the site picker shows it. */
export interface SiteOption extends JiraSite {
  name: string;
}

/** The accessible resources that grant `requiredScope`, as origins. The list's order means nothing. */
export function grantedSites(resources: unknown[], requiredScope: string): SiteOption[] {
  const sites: SiteOption[] = [];
  for (const resource of resources) {
    const { id, url, name, scopes } = (resource ?? {}) as Record<string, unknown>;
    const origin = typeof url === 'string' ? originOf(url) : undefined;
    if (typeof id !== 'string' || id === '' || origin === undefined) continue;
    if (!Array.isArray(scopes) || !scopes.includes(requiredScope)) continue;
    sites.push({ cloudId: id, url: origin, name: typeof name === 'string' && name !== '' ? name : origin });
  }
  return sites;
}

/** The site on the origin of the tenant's site: `https://x.atlassian.net/wiki` → `https://x.atlassian.net`. */
export function siteOfTenant(sites: SiteOption[], tenantSiteUrl: string): SiteOption | undefined {
  const origin = originOf(tenantSiteUrl);
  return origin === undefined ? undefined : sites.find((site) => site.url === origin);
}

/** The origin of an absolute URL; `undefined` for anything else. */
export function originOf(url: string): string | undefined {
  try {
    const { origin } = new URL(url);
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}
