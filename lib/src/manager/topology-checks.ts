// Which store, lock and notice channel may work together: each must reach as far as the records
// it guards, or exclusion and wake-ups silently stop at the process boundary.

import { MemoryTokenStore } from '../store/memory-token-store';
import type { ResolvedOptions } from './options';

const NEEDS_DISTRIBUTED_LOCK =
  'lock: a shared store needs a distributed lock (pass redis, or a RedlockRefreshLock)';

/**
 * Checks the store, lock and notice channel options against each other, before anything opens.
 * @returns whether the records are shared between processes.
 * @throws TypeError naming the option that does not fit.
 */
export function checkTopology(o: ResolvedOptions): boolean {
  const wantsRedis = o.redis !== undefined;
  const shared = wantsRedis || (o.store !== undefined && !(o.store instanceof MemoryTokenStore));
  if (shared && !wantsRedis && !o.lock) throw new TypeError(NEEDS_DISTRIBUTED_LOCK);
  if (shared && o.lock && !o.lock.distributed) throw new TypeError(NEEDS_DISTRIBUTED_LOCK);
  if (!wantsRedis && o.store === undefined && o.lock?.distributed) {
    // A cluster-wide lock around a per-process store would protect nothing across processes.
    throw new TypeError('store: a distributed lock needs a shared store (pass redis, or a RedisTokenStore)');
  }
  // Waiters in other processes must hear of every holder the lock can exclude them by, and an
  // in-process lock's holders have nobody elsewhere to tell.
  const lockDistributed = o.lock ? o.lock.distributed : wantsRedis;
  const noticesDistributed = o.notices ? o.notices.distributed : wantsRedis;
  if (lockDistributed && !noticesDistributed) {
    throw new TypeError(
      'notices: a distributed lock needs a distributed notice channel (pass redis, or a RedisNoticeChannel)',
    );
  }
  if (!lockDistributed && noticesDistributed) {
    throw new TypeError(
      'notices: a distributed notice channel needs a distributed lock and a shared store (pass redis, or a RedlockRefreshLock)',
    );
  }
  return shared;
}
