// Mounts every route of the app. Protected routes authenticate with ACE first; the Jira token
// middleware comes after ACE, because it needs the verified Connect user.

import type { Express } from 'express';
import type { AddOn } from 'atlassian-connect-express';
import type { Redis } from 'ioredis';
import type { Logger, OAuthClient, TokenManager } from 'jira-token-rotation';
import type { AppConfig } from '../app/config';
import type { ConsentRateLimits } from '../app/consent-rate-limits';
import type { ConsentStates } from '../app/consent-states';
import type { LaunchTokens } from '../app/launch-token';
import type { OneTimeStore } from '../app/one-time-store';
import type { SandboxTenant } from '../app/sandbox-tenant';
import type { SiteChoices } from '../app/site-choice';
import type { SecurityHeaders } from '../app/security-headers';
import type { AppUrls, Endpoints } from '../app/urls';
import { adminRoutes } from './admin';
import { connectRoutes } from './connect';
import { healthRoutes } from './health';
import { lifecycleRoutes } from './lifecycle';
import { macroRoutes } from './macro';
import { sandboxRoutes } from './sandbox';

/** What the routes share. */
export interface RouteDeps {
  config: AppConfig;
  urls: AppUrls;
  endpoints: Endpoints;
  addon: AddOn;
  tokens: TokenManager;
  oauth: OAuthClient;
  launches: LaunchTokens;
  /** Claimed launch-token nonces: a launch token starts one consent. */
  launchNonces: OneTimeStore;
  states: ConsentStates;
  siteChoices: SiteChoices;
  headers: SecurityHeaders;
  /** Per-(tenant, user) limits of the launch, connect and callback routes. */
  rateLimits: ConsentRateLimits;
  logger: Logger;
  fetch: typeof fetch;
  /** The real clock, epoch ms (launch tokens). */
  now: () => number;
  redis?: Redis;
  /** Sandbox only. */
  sandbox?: SandboxTenant;
}

/** Mounts the routes, the sandbox's only in the sandbox. */
export default function routes(app: Express, deps: RouteDeps): void {
  app.use(healthRoutes(deps));
  app.use(lifecycleRoutes(deps));
  app.use(macroRoutes(deps));
  app.use(connectRoutes(deps));
  app.use(adminRoutes(deps));
  if (deps.sandbox) app.use(sandboxRoutes({ ...deps, sandbox: deps.sandbox }));
}
