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
  /**
   * A burst whose calls each repeat (every `retryMs`) until answered with a valid token, or until
   * `giveUpMs` have passed: how long users wait, not just what the first answer was.
   */
  | { type: 'serve'; id: string; accountIds: string[]; retryMs: number; giveUpMs: number }
  /** Let the next token request reach the simulator (which commits), then hold its answer. */
  | { type: 'hold' }
  /** Deliver the held answer. */
  | { type: 'release' }
  | { type: 'report' }
  /** Answer `idle` once the worker's manager has nothing in flight (kept pairs written, too). */
  | { type: 'idle' }
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
  | { type: 'closed' }
  | { type: 'idle' }
  /** The held token request reached the simulator, which has answered; the answer waits. */
  | { type: 'held' }
  /** The first call of serve `id` got a valid token. */
  | { type: 'first-ok'; id: string }
  | {
      type: 'served';
      id: string;
      /** Calls that ended with a valid token. */
      ok: number;
      /** 503 answers (with Retry-After) met along the way, each followed by a retry. */
      served503: number;
      codes: Record<string, number>;
      /** Calls still without a valid token at the give-up time. */
      unserved: number;
      /** Answers that were neither a valid token nor a 503 with Retry-After, each followed by a retry. */
      otherAnswers: number;
      /** The first few of them, for diagnosis. */
      other: OtherAnswer[];
    };
