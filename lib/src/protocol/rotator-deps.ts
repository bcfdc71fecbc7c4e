// What a rotation needs from the manager: its settings, the record access, the token endpoint,
// the notice channel its outcome goes out on, and where it counts and logs.

import type { Logger } from '../logger';
import type { OAuthClient } from '../oauth/oauth-client';
import type { RecordAccess } from './record-access';
import type { NoticeChannel } from '../notice/notice-channel';
import type { TokenObserver } from '../metrics/token-observer';
import type { TokenStats } from '../metrics/token-stats';

/** The budgets and windows a rotation works within (see `TokenManagerOptions`). */
export interface RotatorSettings {
  expiryMarginMs: number;
  leaseMs: number;
  leewayMs: number;
  inDoubtSafetyMs: number;
  requestTimeoutMs: number;
  tokenRequestAttempts: number;
  recoveryIntervalMs: number;
  refreshAheadMs: number;
  inDoubtRetryMs: number;
  /** How long a token request that may have reached the server may still commit there. */
  commitHorizonMs: number;
  /** A `keep_alive` rotation happens only while the chain has not rotated for this long. */
  keepAliveAfterMs: number;
}

/** The rotator's collaborators. */
export interface RotatorDeps {
  records: RecordAccess;
  /** Where the holder's outcome is published, to wake waiters and drop cached tokens. */
  notices: NoticeChannel;
  oauth: OAuthClient;
  logger: Logger;
  stats: TokenStats;
  /** Times each token endpoint call (metrics). */
  observer: TokenObserver;
  now: () => number;
  settings: RotatorSettings;
  /** This manager's id, stamped on its notices so it can ignore its own. */
  origin: string;
}
