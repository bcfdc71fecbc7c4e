// The Connect part of consentRouter's options: the user from ACE's verified context, ACE's token
// check in front of the page's routes, and the tenant's site from ACE's installation record.

import type { RequestHandler } from 'express';
import type { ConsentRouterOptions } from '../consent/consent-router-options';
import { type Logger, silentLogger } from '../logger';
import type { UserRef } from '../types';
import { aceUserResolver } from './ace-user-resolver';
import { connectJwtPrecheck } from './connect-jwt-precheck';
import { forgetAceSessionToken } from './forget-ace-session-token';

/** What the helper uses of an atlassian-connect-express add-on (`ace(app)`'s result). */
export interface AceAddon {
  /** ACE's check of a context JWT (`AP.context.getToken()`), which fills `req.context`. */
  checkValidToken(): RequestHandler;
  /** ACE's store: `get('clientInfo', clientKey)` is the tenant's installation, or null. */
  settings: { get(key: string, clientKey: string): Promise<unknown> };
}

/** Options of {@link aceConsentOptions}. */
export interface AceConsentHelperOptions {
  /** Where refused Connect JWTs are logged (the reason, never the token). Default: silent. */
  logger?: Logger;
}

/** The three options {@link aceConsentOptions} fills in. */
export type AceConsentOptions = Required<
  Pick<ConsentRouterOptions, 'resolveUser' | 'authenticate' | 'tenantSiteUrl'>
>;

/**
 * `resolveUser`, `authenticate` and `tenantSiteUrl` for `consentRouter`, for a Connect app:
 * - `authenticate`: the Connect JWT precheck accepting only context tokens (`qsh` =
 *   `context-qsh`: a token copied from a macro's iframe URL must not launch a consent or
 *   disconnect its user), then `addon.checkValidToken()`, then {@link forgetAceSessionToken};
 * - `resolveUser`: {@link aceUserResolver};
 * - `tenantSiteUrl`: the installation's `baseUrl` (e.g. `https://x.atlassian.net/wiki`), or null
 *   once the tenant has uninstalled, so a consent ending after an uninstall saves nothing.
 * @example app.use('/jira', consentRouter({ tokens, callbackUrl, secret, ...aceConsentOptions(addon, { logger }) }))
 * @throws TypeError when `addon` is not an ACE add-on.
 */
export function aceConsentOptions(addon: AceAddon, options: AceConsentHelperOptions = {}): AceConsentOptions {
  if (typeof addon?.checkValidToken !== 'function' || typeof addon.settings?.get !== 'function')
    throw new TypeError('aceConsentOptions: addon must be an atlassian-connect-express add-on');
  const logger = options.logger ?? silentLogger;
  return {
    resolveUser: aceUserResolver,
    authenticate: [
      connectJwtPrecheck({ logger, contextTokensOnly: true }),
      addon.checkValidToken(),
      forgetAceSessionToken,
    ],
    tenantSiteUrl: async (user: UserRef) => {
      const installation = (await addon.settings.get('clientInfo', user.clientKey)) as {
        baseUrl?: unknown;
      } | null;
      const baseUrl = installation?.baseUrl;
      return typeof baseUrl === 'string' && baseUrl !== '' ? baseUrl : null;
    },
  };
}
