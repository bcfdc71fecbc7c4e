// Replication-acknowledged writes (DESIGN.md invariant 15): after a record's compare-and-set, Redis
// `WAIT` on the very connection that wrote it, so a write a primary acknowledged and then lost in a
// failover is never taken for done.

import { Command, type Cluster, type Redis } from 'ioredis';
import { NotDurableError } from '../errors';
import { isCluster } from './redis-input';

/** How many replicas must acknowledge a write: a count, or `'auto'` (1 where replicas exist, else 0). */
export type ReplicasToAck = number | 'auto';

/**
 * Waits for replicas to acknowledge a record's write. `WAIT` counts the writes of the connection it
 * is sent on, so it goes where the write went: the same client on one node (or a Sentinel-managed
 * primary, whose client follows the failover), and on a Cluster the pooled connection to the
 * master of the record key's slot (ioredis routes a keyless command to a random node otherwise).
 * A Lua script cannot call `WAIT`.
 */
export class ReplicaAcks {
  private resolved: Promise<number> | undefined;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly replicasToAck: ReplicasToAck,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Resolves once at least the required replicas hold every write this connection made to `key`'s
   * node; throws {@link NotDurableError} when fewer acknowledged within the timeout. Sends nothing
   * when none are required (a lone node).
   */
  async confirm(key: string): Promise<void> {
    const required = await this.required();
    if (required === 0) return;
    const acknowledged = Number(await this.wait(key, required));
    if (acknowledged < required) throw new NotDurableError(acknowledged, required);
  }

  /**
   * The replicas to wait for. `'auto'` is decided once, at the first write: 1 when the primary
   * (or any Cluster master) has a replica (`INFO replication`, the Cluster's replica nodes), else 0.
   * A detection that fails is tried again at the next write.
   */
  required(): Promise<number> {
    if (this.replicasToAck !== 'auto') return Promise.resolve(this.replicasToAck);
    this.resolved ??= this.detect().catch((error: unknown) => {
      this.resolved = undefined;
      throw error;
    });
    return this.resolved;
  }

  private async detect(): Promise<number> {
    const redis = this.redis;
    if (isCluster(redis)) return redis.nodes('slave').length > 0 ? 1 : 0;
    const info = await redis.info('replication');
    const replicas = Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
    return replicas > 0 ? 1 : 0;
  }

  private wait(key: string, required: number): Promise<unknown> {
    if (!isCluster(this.redis)) return this.redis.call('wait', required, this.timeoutMs);
    // The slot's master: the connection the compare-and-set went over.
    const slot = new Command('exists', [key]).getSlot() ?? undefined;
    const command = new Command('wait', [required, this.timeoutMs], { replyEncoding: 'utf8' });
    (this.redis.sendCommand as (c: Command, s?: unknown, n?: { slot?: number }) => unknown)(
      command,
      undefined,
      { slot },
    );
    return command.promise;
  }
}

/** @throws TypeError unless `replicasToAck` is `'auto'` or a count and the timeout is positive. */
export function checkReplicaAcks(replicasToAck: unknown, timeoutMs: unknown): void {
  const count =
    typeof replicasToAck === 'number' && Number.isSafeInteger(replicasToAck) && replicasToAck >= 0;
  if (replicasToAck !== 'auto' && !count)
    throw new TypeError("replicasToAck must be 'auto' or a non-negative integer");
  // WAIT 0 would block for ever.
  if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 1)
    throw new TypeError('replicaAckTimeoutMs must be a positive integer (milliseconds)');
}
