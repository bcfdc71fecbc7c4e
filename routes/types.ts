// What the route files share: their dependencies and the paths the descriptor names. Imports no
// route file, so route files import this, never each other or index.ts.

import type { AddOn } from 'atlassian-connect-express';
import type { Redis } from 'ioredis';
import type { ConsentRouter, Logger, TokenManager } from 'jira-token-rotation';
import type { AppConfig } from '../app/config';
import type { SandboxTenant } from '../app/sandbox-tenant';
import type { SecurityHeaders } from '../app/security-headers';
import type { AppUrls, Endpoints } from '../app/urls';

/** The macro's path, as in the descriptor. */
export const MACRO_PATH = '/macro/jira-issues';

/** The admin page's path, as in the descriptor. */
export const ADMIN_PATH = '/admin/jira-connections';

/** Where the consent router is mounted: the descriptor-independent `/jira/...` URLs. */
export const CONSENT_BASE = '/jira';

/** What the routes share. */
export interface RouteDeps {
  config: AppConfig;
  urls: AppUrls;
  endpoints: Endpoints;
  addon: AddOn;
  tokens: TokenManager;
  /** The consent flow (launch, connect, callback, site, status, disconnect), mounted at {@link CONSENT_BASE}. */
  consent: ConsentRouter;
  headers: SecurityHeaders;
  logger: Logger;
  fetch: typeof fetch;
  /** The real clock, epoch ms. */
  now: () => number;
  redis?: Redis;
  /** Sandbox only. */
  sandbox?: SandboxTenant;
}
