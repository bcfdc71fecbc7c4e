// The public API of the Jira token core. Re-exports only.

export { createTokenManager } from './manager/create-token-manager';
export type { TokenManager, TokenStatus, GetAccessTokenOptions, OAuthAppInfo } from './manager/token-manager';
export type { KeepAliveSweep } from './manager/keep-alive';
export type { TokenManagerOptions } from './manager/options';
export { DEFAULTS } from './manager/options';
export type { MiddlewareOptions } from './express/middleware';
export type { JiraRequestContext } from './express/jira-client';
export type {
  AccessToken,
  JiraSite,
  TokenRecord,
  TokenResponse,
  TokenState,
  UserRef,
  InDoubtReason,
  RecordVersion,
} from './types';
export type { TokenStore, StoredRecord, StoredPage } from './store/token-store';
export type { ListStatusesOptions, StatusPage } from './manager/status-listing';
export type { RefreshLock } from './lock/refresh-lock';
export type { Notice, NoticeKind } from './notice/notice';
export type { NoticeChannel } from './notice/notice-channel';
export { MemoryTokenStore } from './store/memory-token-store';
export { RedisTokenStore } from './redis/redis-token-store';
export type { RedisTokenStoreOptions } from './redis/redis-token-store-options';
export { InProcessRefreshLock } from './lock/in-process-refresh-lock';
export { RedlockRefreshLock } from './redis/redlock-refresh-lock';
export { InProcessNoticeChannel } from './notice/in-process-notice-channel';
export { RedisNoticeChannel } from './redis/redis-notice-channel';
export type { RedisClient, RedisClusterInput, RedisInput, RedisSentinelInput } from './redis/redis-input';
export {
  checkRedisPersistence,
  type NodePersistence,
  type RedisPersistence,
} from './redis/redis-persistence';
export {
  OAuthClient,
  TokenExchangeError,
  buildTokenRequest,
  processTokenResponse,
} from './oauth/oauth-client';
export type { RefreshOutcome, ValidTokens } from './oauth/refresh-outcome';
export type { Logger } from './logger';
export { ROTATION_OUTCOMES, type RotationOutcome, type TokenStatsSnapshot } from './metrics/token-stats';
export { fingerprint } from './fingerprint';
export {
  ErrorCodes,
  JiraTokenError,
  NotConnectedError,
  ReauthorizationRequiredError,
  UpstreamUnavailableError,
  LockUnavailableError,
  StoreUnavailableError,
  NotDurableError,
  ClientCredentialsRejectedError,
  RecordUnreadableError,
  InvalidUserError,
} from './errors';
export { parseRetryAfter } from './express/jira-retry';
export { assertValidUser } from './valid-user';
export { consentRouter, type ConsentRouter } from './consent/consent-router';
export {
  CONSENT_DEFAULTS,
  type ConsentRouterOptions,
  type ConsentStores,
} from './consent/consent-router-options';
export type { LaunchTokens, Launch } from './consent/launch-tokens';
export { type OneTimeStore, hashId } from './consent/one-time-store';
export { MemoryOneTimeStore } from './consent/memory-one-time-store';
export { RedisOneTimeStore, type RedisOneTimeStoreOptions } from './consent/redis-one-time-store';
export type { RateLimitStore } from './consent/rate-limiter';
export { MemoryRateLimitStore } from './consent/memory-rate-limit-store';
export { RedisRateLimitStore, type RedisRateLimitStoreOptions } from './consent/redis-rate-limit-store';
