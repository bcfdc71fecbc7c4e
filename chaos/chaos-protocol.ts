// The IPC messages between the chaos scenario (chaos/scenario.ts) and its chaos-child workers.

import type { TokenStatsSnapshot } from 'jira-token-rotation';
import type { EventMessage } from '../support/forwarding-logger';

/** An answer that was neither a valid token nor a 503 with Retry-After. */
export interface OtherAnswer {
  status: number;
  retryAfter: string | null;
  body: string;
}

/** Parent → worker. */
export type ChaosCommand =
  /** The clock moved: fire one request per entry (an account id) at the worker's own app, at once. */
  | { type: 'round'; simNow: number; accountIds: string[] }
  | { type: 'clock'; simNow: number }
  | { type: 'report' }
  | { type: 'close' };

/** Worker → parent. */
export type ChaosMessage =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | EventMessage
  | {
      type: 'round-done';
      ok: number;
      served503: number;
      /** How many 503s carried each error code. */
      codes: Record<string, number>;
      other: OtherAnswer[];
    }
  | {
      type: 'report';
      stats: TokenStatsSnapshot;
      /** Unhandled rejections and uncaught exceptions in the worker. */
      unhandled: number;
      /** Known secrets found in the worker's logs (must be empty), abbreviated. */
      leaked: string[];
    }
  | { type: 'closed' };
