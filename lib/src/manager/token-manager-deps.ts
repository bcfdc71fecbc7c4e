// What the factory hands the token manager: its collaborators, settings and clocks, wired once.

import type { Registry } from 'prom-client';
import type { MiddlewareDeps } from '../express/middleware';
import type { RefreshLock } from '../lock/refresh-lock';
import type { Logger } from '../logger';
import type { TokenObserver } from '../metrics/token-observer';
import type { TokenStats } from '../metrics/token-stats';
import type { NoticeChannel } from '../notice/notice-channel';
import type { OAuthClient } from '../oauth/oauth-client';
import type { RecordAccess } from '../protocol/record-access';
import type { RotatorSettings } from '../protocol/rotator-deps';
import type { TokenStore } from '../store/token-store';
import type { KeepAliveSettings } from './keep-alive';
import type { PacerClock } from './rate-pacer';

/** The rotator's settings, and the manager's own waits and family windows. */
export type ManagerSettings = RotatorSettings & {
  waitTimeoutMs: number;
  /** A request waits for the recovery of a failed rotation inside its budget (invariant 15). */
  rideThroughFailures: boolean;
  noticeTimeoutMs: number;
  familyLifetimeMs: number;
  reconnectNoticeMs: number;
};

/** Everything `DefaultTokenManager` works with; `createTokenManager` builds it from the options. */
/** What a consent flow needs of the manager's OAuth app (see `TokenManager.oauthApp`). */
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
  notices: NoticeChannel;
  oauth: OAuthClient;
  oauthApp: OAuthAppInfo;
  logger: Logger;
  stats: TokenStats;
  /** Times lock waits and token endpoint calls (metrics). */
  observer: TokenObserver;
  /** Where the metrics are registered. */
  registry: Registry;
  /** The shared clock (the process's `now` plus its offset to the store's clock): every deadline and expiry. */
  now: () => number;
  /** Resolves once the shared clock has made its first measurement. */
  clockReady?: () => Promise<void>;
  /** This manager's id on the notices it publishes. */
  origin: string;
  settings: ManagerSettings;
  keepAlive: Omit<KeepAliveSettings, 'afterMs'>;
  /** The keep-alive rate limit's clock. */
  pacer: PacerClock;
  /** How `req.jira.fetch` reaches Jira. */
  jira: MiddlewareDeps;
  fetch: typeof fetch;
  /** Closes what the factory opened (Redis connections, store, lock, notice channel). */
  closeResources: () => Promise<void>;
}
