// The token manager: the process cache, the in-process single-flight, the wait-for-notice loop,
// background recovery of in-doubt chains, and consent, disconnect and purge.

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { AccessTokenCache } from './access-token-cache';
import { UserIdMemo } from './user-id-memo';
import {
  LockUnavailableError,
  NotConnectedError,
  ReauthorizationRequiredError,
  StoreUnavailableError,
} from '../errors';
import type { Logger } from '../logger';
import type { OAuthClient, ValidTokens } from '../oauth/oauth-client';
import { validateTokenResponse } from '../oauth/oauth-client';
import { assessRecord, inRefreshAheadWindow } from '../protocol/record-assessment';
import { type RecordAccess, tokenOf } from '../protocol/record-access';
import type { RefreshLock } from '../lock/refresh-lock';
import { type KeepAliveSettings, type KeepAliveSweep, KeepAliveSweeper } from './keep-alive';
import {
  type BackgroundOutcome,
  type BackgroundWork,
  type RotationResult,
  backgroundOf,
  backoffError,
  Rotator,
  type RotatorSettings,
} from '../protocol/rotator';
import { errorName, logLeaseHeldElsewhere, publishNotice, who } from '../protocol/log-context';
import type { PacerClock } from './rate-pacer';
import type { TokenObserver } from '../metrics/token-observer';
import type { TokenStats, TokenStatsSnapshot } from '../metrics/token-stats';
import type { TokenStore } from '../store/token-store';
import type { AccessToken, JiraSite, TokenRecord, TokenResponse, UserRef } from '../types';
import { assertUserRef, encodeClientKey, userId } from '../store/user-key';
import { createJiraMiddleware, type MiddlewareDeps, type MiddlewareOptions } from '../express/middleware';
import {
  type FamilyEnd,
  type ListStatusesOptions,
  type StatusPage,
  type TokenStatus,
  listStatuses,
  statusOf,
} from './status-listing';

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
   * Resolves once the lock's notice subscription is up (Redis connected), so a burst that comes
   * right after start-up is woken by notices rather than by the polling fallback. Optional.
   */
  ready(): Promise<void>;
  /**
   * Resolves once this process's background rotations (refresh-ahead, recovery) have finished,
   * and the store's own work after writes (index upkeep) with them.
   */
  whenIdle(): Promise<void>;
  /** Closes every connection and timer it opened. */
  close(): Promise<void>;
}

export type { TokenStatus } from './status-listing';

/** What a consent flow needs of the manager's OAuth app (see {@link TokenManager.oauthApp}). */
export interface OAuthAppInfo {
  /** The OAuth 2.0 (3LO) app's client id, which the authorize URL names. */
  readonly clientId: string;
  /** The manager's `apiBaseUrl` (api.atlassian.com): `/me` and accessible-resources live there. */
  readonly apiBaseUrl: string;
}

export interface TokenManagerDeps {
  records: RecordAccess;
  store: TokenStore;
  lock: RefreshLock;
  oauth: OAuthClient;
  oauthApp: OAuthAppInfo;
  logger: Logger;
  stats: TokenStats;
  /** Times lock waits and token endpoint calls (metrics). */
  observer: TokenObserver;
  /** Where the metrics are registered. */
  registry: Registry;
  now: () => number;
  /** This manager's id on the notices it publishes. */
  origin: string;
  settings: RotatorSettings & {
    waitTimeoutMs: number;
    noticeTimeoutMs: number;
    familyLifetimeMs: number;
    reconnectNoticeMs: number;
  };
  keepAlive: Omit<KeepAliveSettings, 'afterMs'>;
  /** The keep-alive rate limit's clock. */
  pacer: PacerClock;
  /** How `req.jira.fetch` reaches Jira. */
  jira: MiddlewareDeps;
  fetch: typeof fetch;
  /** Closes what the factory opened (Redis connections, store, lock). */
  closeResources: () => Promise<void>;
}

const SWEEP_BATCH = 100;
/** For a takeover outside the lock: there is no lock whose loss could abort it. */
const NOT_ABORTED = new AbortController().signal;

export class DefaultTokenManager implements TokenManager {
  private readonly cache: AccessTokenCache;
  private readonly ids = new UserIdMemo();
  private readonly inflight = new Map<string, Promise<AccessToken>>();
  private readonly background = new Map<string, Promise<BackgroundOutcome>>();
  private readonly rotator: Rotator;
  private readonly sweepTimer?: NodeJS.Timeout;
  private readonly stopListening: () => void;
  private readonly keepAliveSweeper: KeepAliveSweeper;
  private sweeping?: Promise<number>;
  private closed = false;

  constructor(private readonly deps: TokenManagerDeps) {
    this.cache = new AccessTokenCache(deps.settings.expiryMarginMs);
    this.rotator = new Rotator(deps);
    // Invariant 9: rotations and invalidations from any process drop this process's cached copy.
    this.stopListening = deps.lock.onNotice((notice) => {
      // Our own notices: the cache was already updated where the change was made.
      if (notice.origin === deps.origin) return;
      if (notice.kind === 'tenant_purged')
        this.cache.invalidatePrefix(`${encodeClientKey(notice.user.clientKey)}.`);
      else this.cache.invalidate(userId(notice.user));
    });
    if (deps.settings.recoveryIntervalMs > 0) {
      this.sweepTimer = setInterval(() => void this.recoverInDoubt(), deps.settings.recoveryIntervalMs);
      this.sweepTimer.unref();
    }
    this.keepAliveSweeper = new KeepAliveSweeper({
      ...deps,
      rotate: (user) => this.runInBackground(user, 'keep_alive'),
      settings: { ...deps.keepAlive, afterMs: deps.settings.keepAliveAfterMs },
    });
    this.keepAliveSweeper.start();
  }

  cachedAccessToken(user: UserRef): AccessToken | undefined {
    assertUserRef(user);
    this.assertOpen();
    return this.fromCache(user, this.ids.get(user));
  }

  async getAccessToken(user: UserRef, options: GetAccessTokenOptions = {}): Promise<AccessToken> {
    assertUserRef(user);
    this.assertOpen();
    const { rejected } = options;
    const id = this.ids.get(user);
    const cached = this.fromCache(user, id, rejected);
    if (cached) return cached;
    if (rejected !== undefined) this.cache.invalidate(id);
    // 2. Join the load or refresh already running in this process.
    for (let running = this.inflight.get(id); running; running = this.inflight.get(id)) {
      const result = await running;
      if (result.accessToken !== rejected) return result;
    }
    const load = this.load(user, id, rejected).finally(() => this.inflight.delete(id));
    this.inflight.set(id, load);
    return load;
  }

  /** Step 1, the hot path: a fresh cached token with no I/O, and refresh-ahead when it is due. */
  private fromCache(user: UserRef, id: string, rejected?: string): AccessToken | undefined {
    const now = this.deps.now();
    const cached = this.cache.get(id, now, rejected);
    if (!cached) return undefined;
    this.deps.stats.cacheHits += 1;
    if (inRefreshAheadWindow(cached, now, this.deps.settings.refreshAheadMs))
      this.inBackground(user, 'refresh_ahead');
    return cached.token;
  }

  middleware(options: MiddlewareOptions): RequestHandler {
    return createJiraMiddleware(this, this.deps.jira, options);
  }

  async save(user: UserRef, tokens: TokenResponse, site?: JiraSite): Promise<void> {
    assertUserRef(user);
    this.assertOpen();
    const valid =
      tokens && typeof tokens === 'object'
        ? validateTokenResponse(tokens as unknown as Record<string, unknown>)
        : null;
    if (!valid || !valid.refreshToken) {
      throw new TypeError('save(): tokens must hold access_token, refresh_token and a positive expires_in');
    }
    if (site !== undefined) assertSite(site);
    const { records, now } = this.deps;
    const issued = now();
    // A consent starts a new generation: every late write of the old one now loses its CAS.
    const generation = randomBytes(16).toString('base64url');
    const ciphertext = records.seal(user, generation, {
      accessToken: valid.accessToken,
      refreshToken: valid.refreshToken,
    });
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await records.get(user);
      const record: TokenRecord = {
        generation,
        version: (current?.version ?? 0) + 1,
        state: 'active',
        expiresAt: issued + valid.expiresInSeconds * 1000,
        lastRotatedAt: issued,
        familyStartedAt: issued,
        site: site && { cloudId: site.cloudId, url: site.url },
        ciphertext,
      };
      if (await records.write(user, current, record)) {
        this.cache.invalidate(userId(user));
        await this.publish(user, 'invalidated');
        this.deps.logger.info({ event: 'consent_saved', ...who(user) }, 'Saved a new Jira consent');
        return;
      }
    }
    throw new StoreUnavailableError('The token record kept changing while saving the consent', 1);
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
    await this.deps.records.delete(user);
    this.cache.invalidate(userId(user));
    await this.publish(user, 'invalidated');
    this.deps.logger.info({ event: 'disconnected', ...who(user) }, 'Forgot the Jira tokens of a user');
  }

  async purgeTenant(clientKey: string): Promise<number> {
    if (typeof clientKey !== 'string' || clientKey === '')
      throw new TypeError('purgeTenant(clientKey): a non-empty string');
    this.assertOpen();
    const count = await this.deps.records.deleteTenant(clientKey);
    this.cache.invalidatePrefix(`${encodeClientKey(clientKey)}.`);
    await this.publish({ clientKey, accountId: '' }, 'tenant_purged');
    this.deps.logger.info(
      { event: 'tenant_purged', clientKey, count },
      'Forgot every Jira token of a tenant',
    );
    return count;
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

  private familyEnd(): FamilyEnd {
    const { familyLifetimeMs, reconnectNoticeMs } = this.deps.settings;
    return { now: this.deps.now(), familyLifetimeMs, reconnectNoticeMs };
  }

  recoverInDoubt(): Promise<number> {
    // One sweep at a time per process; each user is recovered under its lock, so sweepers of
    // several processes never race on one chain.
    this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined));
    return this.sweeping;
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
    await this.deps.lock.ready?.();
  }

  async whenIdle(): Promise<void> {
    while (this.background.size > 0 || this.sweeping) {
      await Promise.allSettled([...this.background.values(), this.sweeping]);
    }
    await this.deps.store.settled?.();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.stopListening();
    await this.keepAliveSweeper.close();
    await Promise.allSettled([...this.inflight.values(), ...this.background.values(), this.sweeping]);
    this.cache.clear();
    await this.deps.closeResources();
  }

  /** Steps 3–8 of the flow, looping until a token, a verdict, or the wait budget runs out. */
  private async load(user: UserRef, id: string, rejected: string | undefined): Promise<AccessToken> {
    const { records, lock, settings, now } = this.deps;
    const epoch = this.cache.beginLoad(id);
    const giveUpAt = performance.now() + settings.waitTimeoutMs;
    let waitLogged = false;
    // Set at the first wait for another holder; the whole wait is observed once, however it ends.
    let waitingSince: number | undefined;
    try {
      for (;;) {
        // Register for the notice before reading, so a notice published in between is not missed.
        const notice = lock.waitForNotice(user, settings.noticeTimeoutMs);
        try {
          const read = await records.read(user);
          if (!read) throw new NotConnectedError();
          const assessment = assessRecord({
            ...read,
            rejected,
            now: now(),
            expiryMarginMs: settings.expiryMarginMs,
            refreshAheadMs: settings.refreshAheadMs,
            inDoubtRetryMs: settings.inDoubtRetryMs,
          });
          if (assessment.action === 'reauthorize') throw new ReauthorizationRequiredError();
          if (assessment.action === 'backoff') throw backoffError(assessment.retryAfterMs);
          if (assessment.action === 'use') {
            this.inBackground(user, backgroundOf(assessment));
            return this.remember(id, epoch, tokenOf(read.record, read.secrets!.accessToken));
          }
          if (assessment.action === 'wait' && !waitLogged) {
            waitLogged = true;
            logLeaseHeldElsewhere(this.deps.logger, user);
          }
          if (assessment.action !== 'wait') {
            const attempt = await lock.tryWithLock(user, (signal) =>
              this.rotator.runUnderLock(user, { rejected }, signal, read),
            );
            if (attempt.acquired && attempt.value.kind === 'token')
              return this.fromRotation(user, id, epoch, attempt.value);
            if (!attempt.acquired && read.record.state === 'rotating' && assessment.action === 'recover') {
              // The holder's lease ran out, so it died or lost its lock, yet its lock key may
              // live on until its TTL. The fenced lease's CAS alone decides who takes over
              // (invariant 1), so waiting out a dead holder's TTL would only turn waiters into 503s.
              const taken = await this.rotator.runUnderLock(user, { rejected }, NOT_ABORTED);
              if (taken.kind === 'token') return this.fromRotation(user, id, epoch, taken);
            }
          }
          if (performance.now() >= giveUpAt) {
            throw new LockUnavailableError(
              'Timed out waiting for another process to refresh the Jira token',
              1,
            );
          }
          waitingSince ??= performance.now();
          await notice.promise;
        } finally {
          notice.cancel();
        }
      }
    } finally {
      if (waitingSince !== undefined)
        this.deps.observer.lockWaited((performance.now() - waitingSince) / 1000);
      this.cache.endLoad(id);
    }
  }

  private fromRotation(
    user: UserRef,
    id: string,
    epoch: number,
    result: Extract<RotationResult, { kind: 'token' }>,
  ): AccessToken {
    this.inBackground(user, result.background);
    return this.remember(id, epoch, result.token);
  }

  private remember(id: string, epoch: number, token: AccessToken & { lastRotatedAt: number }): AccessToken {
    return this.cache.set(id, epoch, token);
  }

  private inBackground(user: UserRef, work: BackgroundWork | undefined): void {
    if (work && !this.closed) void this.runInBackground(user, work);
  }

  /**
   * Recovers an in-doubt chain, or rotates ahead of expiry, under the user's lock; one such job
   * per user at a time in this process. Never throws: a request must not fail for work it did
   * not wait for. Failures are counted and logged (the rotator logs state changes once).
   */
  private runInBackground(user: UserRef, work: BackgroundWork): Promise<BackgroundOutcome> {
    const id = userId(user);
    let running = this.background.get(id);
    if (!running) {
      const { stats, logger } = this.deps;
      if (work === 'refresh_ahead') stats.refreshAheadStarted += 1;
      const epoch = this.cache.beginLoad(id);
      running = this.deps.lock
        .tryWithLock(user, (signal) => this.rotator.runUnderLock(user, { background: work }, signal))
        .then((attempt) => {
          if (!attempt.acquired || attempt.value.kind !== 'token') return 'unchanged' as const;
          // The cache learns the new token, so later hits stop asking for refresh-ahead.
          this.cache.set(id, epoch, attempt.value.token);
          return attempt.value.rotated ? ('rotated' as const) : ('unchanged' as const);
        })
        .catch((error: unknown) => {
          stats.backgroundFailures += 1;
          logger.debug(
            { event: 'background_rotation_failed', work, ...who(user), err: errorName(error) },
            'A background rotation failed',
          );
          return 'failed' as const;
        })
        .finally(() => {
          this.cache.endLoad(id);
          this.background.delete(id);
        });
      this.background.set(id, running);
    }
    return running;
  }

  private async sweep(): Promise<number> {
    if (this.closed) return 0;
    const { store, now, logger } = this.deps;
    let recovered = 0;
    try {
      const inDoubt = await store.listByState('in_doubt', SWEEP_BATCH);
      const rotating = await store.listByState('rotating', SWEEP_BATCH);
      const stale = rotating.filter(({ record }) => !record.lease || record.lease.until <= now());
      for (const { user } of [...inDoubt, ...stale]) {
        if (this.closed) break;
        if ((await this.runInBackground(user, 'recover')) === 'rotated') recovered += 1;
      }
    } catch (error) {
      logger.warn(
        { event: 'recovery_sweep_failed', err: errorName(error) },
        'The in-doubt recovery sweep failed',
      );
    }
    return recovered;
  }

  private publish(user: UserRef, kind: 'invalidated' | 'tenant_purged'): Promise<void> {
    return publishNotice(this.deps, user, kind);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The token manager is closed');
  }
}

function assertSite(site: JiraSite): void {
  // cloudIds are UUIDs; anything else (a dot segment, a slash) could steer req.jira.fetch elsewhere.
  if (!site || typeof site.cloudId !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(site.cloudId)) {
    throw new TypeError('site.cloudId must be a cloudId (letters, digits and dashes)');
  }
  let url: URL;
  try {
    url = new URL(site.url);
  } catch {
    throw new TypeError('site.url must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError('site.url must be an http(s) URL');
}
