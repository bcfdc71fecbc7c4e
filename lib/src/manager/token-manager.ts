// The token manager: the public TokenManager interface, and DefaultTokenManager, which wires the
// process cache, background rotations, the in-doubt sweeper, keep-alive and consent together.

import type { RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { createJiraMiddleware, type MiddlewareOptions } from '../express/middleware';
import type { TokenStatsSnapshot } from '../metrics/token-stats';
import type { ValidTokens } from '../oauth/refresh-outcome';
import { Rotator } from '../protocol/rotator';
import type { AccessToken, JiraSite, TokenResponse, UserRef } from '../types';
import { assertUserRef, encodeClientKey, userId } from '../store/user-key';
import { AccessTokenCache } from './access-token-cache';
import { AccessTokenLoader } from './access-token-loader';
import { BackgroundRotations } from './background-rotations';
import { ConsentRecords } from './consent-records';
import { InDoubtSweeper } from './in-doubt-sweeper';
import { type KeepAliveSweep, KeepAliveSweeper } from './keep-alive';
import { NoticeWaitLoop } from './notice-wait-loop';
import {
  type FamilyEnd,
  type ListStatusesOptions,
  type StatusPage,
  type TokenStatus,
  listStatuses,
  statusOf,
} from './status-listing';
import type { OAuthAppInfo, TokenManagerDeps } from './token-manager-deps';

/** Options of {@link TokenManager.getAccessToken}. */
export interface GetAccessTokenOptions {
  /**
   * An access token Jira just answered 401 to. The manager refreshes only while the stored token
   * is still this one, so a burst of 401s also costs one rotation.
   */
  rejected?: string;
}

/** Fresh Jira access tokens for Connect users, one rotation per burst across the cluster. */
export interface TokenManager {
  /** Stores a consent's tokens: a new generation that supersedes whatever was stored. */
  save(user: UserRef, tokens: TokenResponse, site?: JiraSite): Promise<void>;
  /**
   * A fresh access token for the user. The object is frozen and may be the same one for many
   * calls (a cache hit hands out the cached object rather than a copy).
   * @throws NotConnectedError, ReauthorizationRequiredError, UpstreamUnavailableError,
   *   LockUnavailableError, StoreUnavailableError, ClientCredentialsRejectedError, RecordUnreadableError
   */
  getAccessToken(user: UserRef, options?: GetAccessTokenOptions): Promise<AccessToken>;
  /**
   * The user's access token if this process holds a fresh one, synchronously and with no I/O;
   * otherwise undefined (then call {@link getAccessToken}). Starts refresh-ahead when due. Frozen,
   * like {@link getAccessToken}'s.
   */
  cachedAccessToken(user: UserRef): AccessToken | undefined;
  /** Express middleware that sets `req.jira`; see {@link MiddlewareOptions}. */
  middleware(options: MiddlewareOptions): RequestHandler;
  /**
   * Exchanges a consent's authorization code through this manager's own OAuth client (its
   * `tokenUrl`, `tokenRequestEncoding`, timeout and `fetch`). Saves nothing: {@link save} does.
   * @throws TokenExchangeError with a reason and a message that holds no secret.
   */
  exchangeCode(code: string, redirectUri: string): Promise<ValidTokens & { refreshToken: string }>;
  /** The OAuth app this manager speaks for, as a consent flow needs it: no secret. */
  readonly oauthApp: OAuthAppInfo;
  /** Forgets the user's tokens (Atlassian has no revocation endpoint). */
  disconnect(user: UserRef): Promise<void>;
  /** Forgets every token of a tenant (uninstall). Returns how many records were deleted. */
  purgeTenant(clientKey: string): Promise<number>;
  /** The stored state of a user's chain, without any token. */
  status(user: UserRef): Promise<TokenStatus | null>;
  /**
   * One page of a tenant's connected users and their chains' states, never a token (the admin
   * page). Pass each page's `cursor` back until it is `undefined`.
   * @throws TypeError when the store cannot list (a custom store without `listTenant`).
   */
  listTenant(clientKey: string, options?: ListStatusesOptions): Promise<StatusPage>;
  /**
   * One page of every tenant's users and their chains' states, never a token (personal data
   * reporting). Pass each page's `cursor` back until it is `undefined`.
   * @throws TypeError when the store cannot list (a custom store without `listAll`).
   */
  listUsers(options?: ListStatusesOptions): Promise<StatusPage>;
  /** Runs one in-doubt recovery sweep now (the sweeper runs it every `recoveryIntervalMs`). Returns the chains recovered. */
  recoverInDoubt(): Promise<number>;
  /**
   * Runs one keep-alive sweep now (the sweeper runs it every `keepAliveIntervalMs`): rotates every
   * active chain not rotated for `keepAliveAfterDays`, through the locked protocol, at most
   * `keepAliveRatePerSecond` a second. Joins the sweep already running in this process; reports
   * `swept: false` when keep-alive is disabled or another process holds the sweeper lock. Never
   * rejects: failures are logged and counted.
   */
  keepAlive(): Promise<KeepAliveSweep>;
  /** Counters of this process. */
  stats(): TokenStatsSnapshot;
  /**
   * The prom-client registry holding this manager's metrics (`jira_token_*`, `jira_api_retries_total`):
   * the `registry` option, or a new one of its own. Serve `await registry.metrics()` at `/metrics`.
   */
  readonly registry: Registry;
  /**
   * Resolves once the notice channel's subscription is up (Redis connected), so a burst that comes
   * right after start-up is woken by notices rather than by the polling fallback, and the first
   * measurement of the clock offset to the store's clock is made. Optional.
   */
  ready(): Promise<void>;
  /**
   * Resolves once this process's background rotations (refresh-ahead, recovery) and settlement
   * writes being retried after a store failure have finished, and the store's own work after
   * writes (index upkeep) with them.
   */
  whenIdle(): Promise<void>;
  /** Closes every connection and timer it opened. */
  close(): Promise<void>;
}

export type { TokenStatus } from './status-listing';

export type { OAuthAppInfo, TokenManagerDeps } from './token-manager-deps';

/** The {@link TokenManager} `createTokenManager` returns: checks each call, then hands it to its part. */
export class DefaultTokenManager implements TokenManager {
  private readonly cache: AccessTokenCache;
  private readonly background: BackgroundRotations;
  private readonly loader: AccessTokenLoader;
  private readonly consent: ConsentRecords;
  private readonly sweeper: InDoubtSweeper;
  private readonly stopListening: () => void;
  private readonly keepAliveSweeper: KeepAliveSweeper;
  private readonly rotator: Rotator;
  private closed = false;

  constructor(private readonly deps: TokenManagerDeps) {
    const isClosed = (): boolean => this.closed;
    this.cache = new AccessTokenCache(deps.settings.expiryMarginMs);
    const rotator = new Rotator(deps);
    this.rotator = rotator;
    this.background = new BackgroundRotations(deps, rotator, this.cache, isClosed);
    const loop = new NoticeWaitLoop(deps, rotator, this.cache, this.background);
    this.loader = new AccessTokenLoader(deps, this.cache, this.background, loop);
    this.consent = new ConsentRecords(deps, this.cache);
    // Invariant 9: rotations and invalidations from any process drop this process's cached copy.
    this.stopListening = deps.notices.onNotice((notice) => {
      // Our own notices: the cache was already updated where the change was made.
      if (notice.origin === deps.origin) return;
      if (notice.kind === 'tenant_purged')
        this.cache.invalidatePrefix(`${encodeClientKey(notice.user.clientKey)}.`);
      else this.cache.invalidate(userId(notice.user));
    });
    this.sweeper = new InDoubtSweeper(deps, deps.settings.recoveryIntervalMs, this.background, isClosed);
    this.keepAliveSweeper = new KeepAliveSweeper({
      ...deps,
      rotate: (user) => this.background.run(user, 'keep_alive'),
      settings: { ...deps.keepAlive, afterMs: deps.settings.keepAliveAfterMs },
    });
    this.keepAliveSweeper.start();
  }

  cachedAccessToken(user: UserRef): AccessToken | undefined {
    assertUserRef(user);
    this.assertOpen();
    return this.loader.cached(user);
  }

  async getAccessToken(user: UserRef, options: GetAccessTokenOptions = {}): Promise<AccessToken> {
    assertUserRef(user);
    this.assertOpen();
    return this.loader.get(user, options.rejected);
  }

  middleware(options: MiddlewareOptions): RequestHandler {
    return createJiraMiddleware(this, this.deps.jira, options);
  }

  async save(user: UserRef, tokens: TokenResponse, site?: JiraSite): Promise<void> {
    assertUserRef(user);
    this.assertOpen();
    return this.consent.save(user, tokens, site);
  }

  exchangeCode(code: string, redirectUri: string): Promise<ValidTokens & { refreshToken: string }> {
    this.assertOpen();
    return this.deps.oauth.exchangeCode(code, redirectUri);
  }

  get oauthApp(): OAuthAppInfo {
    return this.deps.oauthApp;
  }

  async disconnect(user: UserRef): Promise<void> {
    assertUserRef(user);
    this.assertOpen();
    return this.consent.disconnect(user);
  }

  async purgeTenant(clientKey: string): Promise<number> {
    if (typeof clientKey !== 'string' || clientKey === '')
      throw new TypeError('purgeTenant(clientKey): a non-empty string');
    this.assertOpen();
    return this.consent.purgeTenant(clientKey);
  }

  async status(user: UserRef): Promise<TokenStatus | null> {
    assertUserRef(user);
    const record = await this.deps.records.get(user);
    return record ? statusOf(record, this.familyEnd()) : null;
  }

  async listTenant(clientKey: string, options?: ListStatusesOptions): Promise<StatusPage> {
    if (typeof clientKey !== 'string' || clientKey === '')
      throw new TypeError('listTenant(clientKey): a non-empty string');
    return listStatuses(this.deps.store, clientKey, this.familyEnd(), options);
  }

  async listUsers(options?: ListStatusesOptions): Promise<StatusPage> {
    return listStatuses(this.deps.store, undefined, this.familyEnd(), options);
  }

  recoverInDoubt(): Promise<number> {
    return this.sweeper.sweep();
  }

  keepAlive(): Promise<KeepAliveSweep> {
    return this.keepAliveSweeper.sweep();
  }

  stats(): TokenStatsSnapshot {
    return this.deps.stats.snapshot();
  }

  get registry(): Registry {
    return this.deps.registry;
  }

  async ready(): Promise<void> {
    await Promise.all([this.deps.notices.ready?.(), this.deps.clockReady?.()]);
  }

  async whenIdle(): Promise<void> {
    for (let work = this.backgroundWork(); work.length > 0; work = this.backgroundWork()) {
      await Promise.allSettled(work);
    }
    await this.deps.store.settled?.();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sweeper.stop();
    this.stopListening();
    await this.keepAliveSweeper.close();
    // Settlement writes still being retried stop first (they would wait for the store for ever):
    // their pairs are lost with the process, logged at error, and recovered inside the leeway.
    await this.rotator.pending.close();
    await Promise.allSettled([...this.loader.pending(), ...this.backgroundWork()]);
    this.cache.clear();
    await this.deps.closeResources();
  }

  private familyEnd(): FamilyEnd {
    const { familyLifetimeMs, reconnectNoticeMs } = this.deps.settings;
    return { now: this.deps.now(), familyLifetimeMs, reconnectNoticeMs };
  }

  /** Background rotations, settlement writes being retried, and the recovery sweep running now. */
  private backgroundWork(): Promise<unknown>[] {
    const sweep = this.sweeper.running;
    const work = [...this.background.pending(), ...this.rotator.pending.pending()];
    return sweep ? [...work, sweep] : work;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The token manager is closed');
  }
}
