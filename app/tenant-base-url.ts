// The tenant's Confluence base URL as ACE verified it: who may frame the app's macro pages.

import type { Request } from 'express';

/** The verified Confluence base URL of the request's tenant, e.g. `https://x.atlassian.net/wiki`. */
export function tenantBaseUrl(req: Request): string | undefined {
  const value = (req as Request & { context?: { hostBaseUrl?: unknown } }).context?.hostBaseUrl;
  return typeof value === 'string' && value !== '' ? value : undefined;
}
