// Data loss is loud: a Redis restarted without its data, a failover to an empty replica or a flush
// takes every token record with it, and users would only see "not connected". Each process writes
// a marker key next to the records and checks it on a timer; a marker that vanished or changed
// under it means the records it stood beside are gone, which is logged once per loss and counted.

import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger';

/**
 * KEYS[1]: the marker. ARGV[1]: a fresh value. Returns the marker, setting it to ARGV[1] when
 * absent: one round trip, on any Redis version (SET NX GET needs 7.0). No TTL, so a `volatile-*`
 * eviction policy never picks it, as it never picks a token record.
 */
const READ_OR_SET = `
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`;

/** Options of {@link StoreLossWatch}. */
export interface StoreLossWatchOptions {
  redis: Redis | Cluster;
  /** The token store's key prefix: the marker is `<keyPrefix>store-marker`. */
  keyPrefix: string;
  logger: Logger;
  /** How often to check, ms; 0 checks only when {@link StoreLossWatch.check} is called. */
  intervalMs: number;
  /** Called once per loss this process sees (the `jira_token_store_losses_total` metric). */
  onLoss: () => void;
}

/** Watches one token store's marker key. */
export class StoreLossWatch {
  private readonly key: string;
  /** The marker this process last saw; undefined until the first successful check. */
  private known: string | undefined;
  private losses = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly o: StoreLossWatchOptions) {
    this.key = `${o.keyPrefix}store-marker`;
  }

  /** Checks once now, then every `intervalMs` (an unref'd timer). */
  start(): void {
    void this.check();
    if (this.o.intervalMs > 0) {
      this.timer = setInterval(() => void this.check(), this.o.intervalMs);
      this.timer.unref();
    }
  }

  /**
   * Reads the marker, setting it when absent. A marker other than the one this process saw last
   * (absent, or set anew by a process that found it absent) is a loss: one error line, one count.
   * A Redis that cannot be reached is not a loss (outages are reported where they hurt); the check
   * simply waits for the next turn. Never throws.
   */
  check(): Promise<void> {
    // One check at a time: a slow Redis must not stack them up.
    this.running ??= this.checkOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops the timer and waits for a check in progress. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async checkOnce(): Promise<void> {
    let current: string;
    try {
      const fresh = randomBytes(12).toString('base64url');
      current = String(await this.o.redis.eval(READ_OR_SET, 1, this.key, fresh));
      if (current === fresh && this.known === undefined) {
        this.known = current;
        return;
      }
    } catch {
      return;
    }
    const before = this.known;
    this.known = current;
    if (before === undefined || before === current) return;
    this.losses += 1;
    this.o.onLoss();
    this.o.logger.error(
      { event: 'token_store_lost', losses: this.losses },
      'The token store lost its records (Redis restarted without persistence, failed over to an empty replica, was flushed or evicted keys): users whose records were lost must reconnect Jira. Check Redis persistence (appendonly yes) and maxmemory-policy',
    );
  }
}
