// The IPC messages between a crash test and its fault-child processes.

import type { TokenStatsSnapshot } from 'jira-token-rotation';
import type { CrashPoint } from './crash-points';
import type { EventMessage } from '../../support/forwarding-logger';

/** What one getAccessToken call of a burst ended with: a token fingerprint, or an error's code. */
export type CallResult = { ok: string } | { error: string; status?: number; retryAfterSeconds?: number };

/** Parent → child. */
export type FaultCommand =
  /** Fire `concurrency` concurrent getAccessToken calls for the child's user. */
  | { type: 'burst'; concurrency: number }
  /** The simulator's clock moved (or is re-synchronised): the child's clock follows. */
  | { type: 'clock'; simNow: number }
  /** The holder paused after taking its lease may go on (to its crash point, if it has one). */
  | { type: 'proceed' }
  /** Run one recovery sweep now and answer `swept`. */
  | { type: 'sweep' };

/** Child → parent. */
export type FaultMessage =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  /** The holder took the lease and waits for `proceed`. */
  | { type: 'paused' }
  /** The holder reached its crash point and will never return from it. */
  | { type: 'crash-point'; point: CrashPoint }
  | EventMessage
  | {
      type: 'done';
      results: CallResult[];
      stats: TokenStatsSnapshot;
      /** Known secrets found in the child's logs (must be empty), abbreviated. */
      leaked: string[];
      /** How many `clock_skew` warnings the child has logged so far. */
      clockSkewWarnings: number;
    }
  | { type: 'swept'; recovered: number };
