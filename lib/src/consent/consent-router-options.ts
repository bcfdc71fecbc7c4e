// The consent router's options: every default in one place, every option checked once, when the
// router is made, with a TypeError naming the option.

import { hkdfSync } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { RedisClient } from '../redis/redis-input';
import { type Logger, silentLogger } from '../logger';
import type { TokenManager } from '../manager/token-manager';
import type { UserRef } from '../types';
import type { OneTimeStore } from './one-time-store';
import type { RateLimitStore } from './rate-limiter';

/** Stores for backends other than memory and Redis; each one left out is made from `redis` (or memory). */
export interface ConsentStores {
  /** OAuth states of consents in progress (10 minutes each). */
  states?: OneTimeStore;
  /** Claimed launch-token nonces (60 seconds each). */
  launchNonces?: OneTimeStore;
  /** Consents waiting for the user's site choice, sealed with a key derived from `secret`. */
  siteChoices?: OneTimeStore;
  /** Rate-limit counts of `launch`, `connect` and `callback`: keys start with the route's name. */
  rateLimits?: RateLimitStore;
}

/** Options of {@link consentRouter}. */
export interface ConsentRouterOptions {
  /** The token manager: it exchanges the code (its own OAuth client and encoding) and saves the tokens. Required. */
  tokens: TokenManager;
  /**
   * Who a launch, status or disconnect request is for (same contract as the middleware's): null or
   * undefined is an anonymous viewer (403 `{error:'anonymous'}`); throwing `InvalidUserError`
   * answers 400; any other error goes to `next(error)`. Runs after `authenticate`. Required.
   */
  resolveUser: (req: Request) => UserRef | null | undefined;
  /**
   * The absolute redirect URI registered with Atlassian: the router's `/callback`, e.g.
   * `https://app.example.com/jira/callback`. The nonce cookie's path is its directory (`/jira/`).
   * Required.
   */
  callbackUrl: string;
  /**
   * At least 32 bytes (a string counts its UTF-8 bytes), the same in every process: keys launch
   * tokens and sealed site choices (HKDF, one key per use). Required.
   */
  secret: string | Buffer;
  /**
   * Run, in order, before the launch, status and disconnect routes: the request's authentication
   * (e.g. `aceConsentOptions(addon).authenticate`). Errors they pass to `next` go to the app's
   * error handler. Default: none.
   */
  authenticate?: RequestHandler[];
  /**
   * The site the user's tenant is bound to, e.g. a Confluence base URL
   * `https://x.atlassian.net/wiki` (origins are compared); `null`: the tenant is gone (uninstalled),
   * nothing is saved; `undefined`: no preference, the one granted site, else the user's choice.
   * Asked at the callback and again before a site choice is saved. Default: no preference.
   */
  tenantSiteUrl?: (user: UserRef) => Promise<string | null | undefined>;
  /**
   * An ioredis client, `Redis` or `Cluster`: states, launch nonces, site choices and rate-limit
   * counts in Redis, shared by every process (Redis 6.2+). Each command touches one key, so a
   * Cluster needs nothing more. The router never closes it. Default: memory stores (one process).
   */
  redis?: RedisClient;
  /** Prefix of the router's Redis keys. Default `'jtr:'`. */
  keyPrefix?: string;
  /** Stores of other backends; each one given replaces the Redis or memory default. Default: none. */
  stores?: ConsentStores;
  /**
   * Requests per window to each of launch, connect and callback, per user (the launch token's or
   * the state's), else per client address (`req.ip`). Default `{ limit: 10, windowMs: 60_000 }`.
   */
  rateLimit?: { limit: number; windowMs: number };
  /** Atlassian's authorize endpoint. Default `'https://auth.atlassian.com/authorize'`. */
  authorizeUrl?: string;
  /** The identity endpoint. Default `<tokens.oauthApp.apiBaseUrl>/me`. */
  meUrl?: string;
  /** The grant's sites. Default `<tokens.oauthApp.apiBaseUrl>/oauth/token/accessible-resources`. */
  resourcesUrl?: string;
  /**
   * The scopes asked for, space-separated or a list; must include `read:me` (the account check),
   * `offline_access` (a refresh token) and `requiredSiteScope`.
   * Default `'read:jira-work read:jira-user read:me offline_access'`.
   */
  scopes?: string | string[];
  /** A site is offered only if the grant gives it this scope. Default `'read:jira-work'`. */
  requiredSiteScope?: string;
  /** The nonce cookie is `Secure`. Default: whether `callbackUrl` is https. */
  secureCookies?: boolean;
  /** A pino-compatible logger; never given a token, code, state or launch token. Default: silent. */
  logger?: Logger;
  /** For the `/me` and accessible-resources calls. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** The clock, epoch ms (launch tokens, states, rate-limit windows). Default `Date.now`. */
  now?: () => number;
}

/** The defaults, frozen. */
export const CONSENT_DEFAULTS = Object.freeze({
  keyPrefix: 'jtr:',
  rateLimit: Object.freeze({ limit: 10, windowMs: 60_000 }),
  authorizeUrl: 'https://auth.atlassian.com/authorize',
  scopes: 'read:jira-work read:jira-user read:me offline_access',
  requiredSiteScope: 'read:jira-work',
});

/** The options once checked, with their defaults. */
export interface ResolvedConsentOptions {
  tokens: TokenManager;
  resolveUser: (req: Request) => UserRef | null | undefined;
  callbackUrl: string;
  /** The nonce cookie's path: the callback's directory. */
  cookiePath: string;
  launchKey: Buffer;
  siteChoiceKey: Buffer;
  authenticate: RequestHandler[];
  tenantSiteUrl?: (user: UserRef) => Promise<string | null | undefined>;
  redis?: RedisClient;
  keyPrefix: string;
  stores: ConsentStores;
  rateLimit: { limit: number; windowMs: number };
  authorizeUrl: string;
  meUrl: string;
  resourcesUrl: string;
  scope: string;
  requiredSiteScope: string;
  secureCookies: boolean;
  logger: Logger;
  fetch: typeof fetch;
  now: () => number;
}

/**
 * Checks every option and fills in the defaults.
 * @throws TypeError naming the option that is missing or wrong.
 */
export function resolveConsentOptions(options: ConsentRouterOptions): ResolvedConsentOptions {
  if (!options || typeof options !== 'object')
    throw new TypeError('consentRouter(options) needs an options object');
  const { tokens } = options;
  if (
    !tokens ||
    !['exchangeCode', 'save', 'status', 'disconnect'].every(
      (name) => typeof (tokens as unknown as Record<string, unknown>)[name] === 'function',
    ) ||
    typeof tokens.oauthApp?.clientId !== 'string'
  ) {
    throw new TypeError('tokens is required: a TokenManager from createTokenManager()');
  }
  requireFunction(options.resolveUser, 'resolveUser', 'a function from the request to its user');
  const callback = requireUrl(options.callbackUrl, 'callbackUrl');
  if (callback === undefined) throw new TypeError('callbackUrl is required: the absolute redirect URI');
  const secret = secretOf(options.secret);
  const authenticate = options.authenticate ?? [];
  if (!Array.isArray(authenticate) || !authenticate.every((h) => typeof h === 'function'))
    throw new TypeError('authenticate must be an array of request handlers');
  if (options.tenantSiteUrl !== undefined)
    requireFunction(options.tenantSiteUrl, 'tenantSiteUrl', 'an async function from the user to a site URL');
  if (options.redis !== undefined && typeof (options.redis as { eval?: unknown })?.eval !== 'function')
    throw new TypeError('redis must be an ioredis client (Redis or Cluster)');
  const keyPrefix = options.keyPrefix ?? CONSENT_DEFAULTS.keyPrefix;
  if (typeof keyPrefix !== 'string') throw new TypeError('keyPrefix must be a string');
  const stores = checkStores(options.stores);
  const rateLimit = checkRateLimit(options.rateLimit ?? CONSENT_DEFAULTS.rateLimit);
  const authorizeUrl = urlOption(options.authorizeUrl, 'authorizeUrl') ?? CONSENT_DEFAULTS.authorizeUrl;
  const api = tokens.oauthApp.apiBaseUrl.replace(/\/+$/, '');
  const meUrl = urlOption(options.meUrl, 'meUrl') ?? `${api}/me`;
  const resourcesUrl =
    urlOption(options.resourcesUrl, 'resourcesUrl') ?? `${api}/oauth/token/accessible-resources`;
  const requiredSiteScope = options.requiredSiteScope ?? CONSENT_DEFAULTS.requiredSiteScope;
  if (typeof requiredSiteScope !== 'string' || !/^\S+$/.test(requiredSiteScope))
    throw new TypeError('requiredSiteScope must be one scope, e.g. read:jira-work');
  const scope = checkScopes(options.scopes ?? CONSENT_DEFAULTS.scopes, requiredSiteScope);
  const secureCookies = options.secureCookies ?? callback.protocol === 'https:';
  if (typeof secureCookies !== 'boolean') throw new TypeError('secureCookies must be a boolean');
  const logger = options.logger ?? silentLogger;
  if (
    !['debug', 'info', 'warn', 'error'].every(
      (level) => typeof (logger as unknown as Record<string, unknown>)[level] === 'function',
    )
  )
    throw new TypeError('logger must be a pino-compatible logger (debug, info, warn, error)');
  const fetchFn = options.fetch ?? globalThis.fetch;
  requireFunction(fetchFn, 'fetch', 'a fetch function');
  const now = options.now ?? Date.now;
  requireFunction(now, 'now', 'a function returning epoch milliseconds');
  return {
    tokens,
    resolveUser: options.resolveUser,
    callbackUrl: options.callbackUrl,
    cookiePath: callback.pathname.slice(0, callback.pathname.lastIndexOf('/') + 1),
    launchKey: deriveKey(secret, 'launch token'),
    siteChoiceKey: deriveKey(secret, 'site choice'),
    authenticate,
    tenantSiteUrl: options.tenantSiteUrl,
    redis: options.redis,
    keyPrefix,
    stores,
    rateLimit,
    authorizeUrl,
    meUrl,
    resourcesUrl,
    scope,
    requiredSiteScope,
    secureCookies,
    logger,
    fetch: fetchFn,
    now,
  };
}

/** A 32-byte key for one `purpose` (HKDF-SHA256): a key made for one use never serves another. */
export function deriveKey(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `jtr ${purpose}`, 32));
}

function secretOf(secret: unknown): Buffer {
  const bytes =
    typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.isBuffer(secret) ? secret : undefined;
  if (!bytes || bytes.length < 32)
    throw new TypeError(
      'secret is required: a string or Buffer of at least 32 bytes, the same in every process',
    );
  return bytes;
}

function requireFunction(value: unknown, name: string, what: string): void {
  if (typeof value !== 'function') throw new TypeError(`${name} must be ${what}`);
}

/** The URL, `undefined` when not given; the value is never echoed. */
function requireUrl(value: unknown, name: string): URL | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.hash !== '')
    throw new TypeError(`${name} must be an absolute http(s) URL without a fragment`);
  return url;
}

/** A URL option as given (Atlassian compares redirect URIs as strings), `undefined` when not given. */
function urlOption(value: unknown, name: string): string | undefined {
  return requireUrl(value, name) && (value as string);
}

function checkStores(stores: unknown): ConsentStores {
  if (stores === undefined) return {};
  if (!stores || typeof stores !== 'object') throw new TypeError('stores must be an object');
  const given = stores as Record<string, unknown>;
  for (const name of ['states', 'launchNonces', 'siteChoices'] as const) {
    const store = given[name] as Record<string, unknown> | undefined;
    if (store !== undefined && (typeof store?.add !== 'function' || typeof store.take !== 'function'))
      throw new TypeError(`stores.${name} must be a OneTimeStore (add, take)`);
  }
  const rate = given.rateLimits as Record<string, unknown> | undefined;
  if (rate !== undefined && typeof rate?.hit !== 'function')
    throw new TypeError('stores.rateLimits must be a RateLimitStore (hit)');
  return stores as ConsentStores;
}

function checkRateLimit(rateLimit: unknown): { limit: number; windowMs: number } {
  const { limit, windowMs } = (rateLimit ?? {}) as Record<string, unknown>;
  if (!Number.isSafeInteger(limit) || (limit as number) < 1)
    throw new TypeError('rateLimit.limit must be an integer of at least 1');
  if (!Number.isSafeInteger(windowMs) || (windowMs as number) < 1_000)
    throw new TypeError('rateLimit.windowMs must be an integer of at least 1000');
  return { limit: limit as number, windowMs: windowMs as number };
}

function checkScopes(scopes: unknown, requiredSiteScope: string): string {
  const list = typeof scopes === 'string' ? scopes.split(/\s+/).filter(Boolean) : scopes;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((s) => typeof s === 'string' && /^\S+$/.test(s))
  )
    throw new TypeError('scopes must be a space-separated string or a list of scopes');
  for (const needed of ['read:me', 'offline_access', requiredSiteScope]) {
    if (!list.includes(needed)) throw new TypeError(`scopes must include ${needed}`);
  }
  return list.join(' ');
}
