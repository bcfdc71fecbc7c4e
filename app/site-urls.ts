// Where a user's Jira site is, for the issue links: `req.jira` carries the cloudId, the stored
// record the site's URL. A site's URL is the same for every user, so each process asks the store
// once per cloudId, and the macro's hot path stays free of I/O.

import type { TokenManager, UserRef } from 'jira-token-rotation';

/** cloudId → site URL, learnt from the token records. */
export class SiteUrls {
  private readonly byCloudId = new Map<string, string>();

  constructor(
    private readonly tokens: Pick<TokenManager, 'status'>,
    private readonly maxEntries = 10_000,
  ) {}

  /** The URL of the user's site `cloudId`, e.g. `https://x.atlassian.net`; undefined if unknown. */
  async of(user: UserRef, cloudId: string | undefined): Promise<string | undefined> {
    if (!cloudId) return undefined;
    const known = this.byCloudId.get(cloudId);
    if (known) return known;
    // Links are a convenience: a store failure costs the links, not the table.
    const site = (await this.tokens.status(user).catch(() => null))?.site;
    if (site?.cloudId !== cloudId) return undefined;
    if (this.byCloudId.size >= this.maxEntries) this.byCloudId.clear();
    this.byCloudId.set(cloudId, site.url);
    return site.url;
  }
}
