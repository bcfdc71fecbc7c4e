// The public API of the Jira token core. Re-exports only.

export { createTokenManager } from './create-token-manager';
export type { TokenManager, TokenStatus, GetAccessTokenOptions } from './token-manager';
export type { KeepAliveSweep } from './keep-alive';
export type { TokenManagerOptions } from './options';
export { DEFAULTS } from './options';
export type { MiddlewareOptions } from './middleware';
export type { JiraRequestContext } from './jira-client';
export { aceUserResolver } from './ace';
export type {
  AccessToken,
  JiraSite,
  TokenRecord,
  TokenResponse,
  TokenState,
  UserRef,
  InDoubtReason,
} from './types';
export type { TokenStore, StoredRecord, StoredPage } from './token-store';
export type { ListStatusesOptions, StatusPage } from './status-listing';
export type { RefreshLock, Notice, NoticeKind } from './refresh-lock';
export { MemoryTokenStore } from './memory-token-store';
export { RedisTokenStore } from './redis-token-store';
export { InProcessRefreshLock } from './in-process-refresh-lock';
export { RedlockRefreshLock } from './redlock-refresh-lock';
export { checkRedisPersistence, type RedisPersistence } from './redis-persistence';
export { OAuthClient, TokenExchangeError, buildTokenRequest, processTokenResponse } from './oauth-client';
export type { RefreshOutcome, ValidTokens } from './oauth-client';
export type { Logger } from './logger';
export { ROTATION_OUTCOMES, type RotationOutcome, type TokenStatsSnapshot } from './token-stats';
export { fingerprint } from './fingerprint';
export {
  ErrorCodes,
  JiraTokenError,
  NotConnectedError,
  ReauthorizationRequiredError,
  UpstreamUnavailableError,
  LockUnavailableError,
  StoreUnavailableError,
  ClientCredentialsRejectedError,
  RecordUnreadableError,
} from './errors';
