// Recovery probe 2, a Redis blip: two app processes reach their Redis through a TCP proxy. The
// holder's token request reaches the simulator (which rotates) and its answer is held; the proxy
// cuts every connection and refuses new ones; the answer is delivered into the cut; 2 s later the
// proxy is restored. Timed from Redis coming back to every one of the 200 calls served (a call
// answered 503 is repeated, and the 503s are counted).

import { setTimeout as delay } from 'node:timers/promises';
import { startRedisServer } from '../../support/redis-server';
import { startTcpProxy } from '../../support/tcp-proxy';
import { type ProbeOutcome, ProbeKit, type RecoveryProbeOptions, latest, now } from './probe-kit';

/** How long Redis is unreachable: the fault itself, not a wait for a condition. */
export const BLIP_MS = 2_000;
/** Calls per process: 200 in all. */
const CALLS = 100;

export interface RedisBlipResult extends ProbeOutcome {
  /** From Redis coming back to every call served with a valid token. */
  recoveryMs: number;
}

export async function probeRedisBlip(options: RecoveryProbeOptions): Promise<RedisBlipResult> {
  const redis = await startRedisServer();
  const proxy = await startTcpProxy(redis.port);
  let kit: ProbeKit | undefined;
  try {
    // The observer reaches Redis directly: only the app processes see the blip.
    kit = await ProbeKit.open(options, 1, redis.url);
    const [holder, other] = await kit.spawn(2, { REDIS_URL: proxy.url });
    holder.send({ type: 'hold' });
    const bursts = [kit.serve(holder, CALLS)];
    await kit.capped(holder.next('held'), 'token request from the holder');
    bursts.push(kit.serve(other, CALLS));
    await kit.waiting(other);

    await proxy.cutOff();
    holder.send({ type: 'release' }); // the holder must now store the new tokens, with Redis gone
    await delay(BLIP_MS);
    await proxy.restore();
    const restoredAt = now();
    const done = await kit.capped(Promise.all(bursts.map((b) => b.done)), 'end of the bursts');
    return { ...(await kit.outcome(done)), recoveryMs: latest(done.map((d) => d.at)) - restoredAt };
  } finally {
    await kit?.close();
    await proxy.close();
    await redis.close();
  }
}
