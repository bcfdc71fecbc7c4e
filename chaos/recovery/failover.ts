// Recovery probe 3, a Sentinel failover: two app processes follow a Sentinel group's primary
// (`new Redis({ sentinels, name })`); four users' bursts are under way, one token answer held in
// the first process (the simulator has rotated), when the primary is SIGKILLed. Timed from the promotion of the
// replica, and from the kill, to every user served again: the bursts under way, and a burst over
// every user sent at the promotion.

import Redis from 'ioredis';
import { startRedisSentinel } from '../../support/redis-sentinel';
import { type ProbeOutcome, ProbeKit, type RecoveryProbeOptions, latest, now } from './probe-kit';

const USERS = 4;
/** Calls per process in each burst, spread over the users. */
const CALLS = 20;

export interface FailoverResult extends ProbeOutcome {
  /** From the kill to the sentinels naming the promoted replica, which answers as primary. */
  promotionMs: number;
  /** From the promotion to every user served again. */
  recoveryMs: number;
  /** From the kill to every user served again. */
  fromKillMs: number;
}

export async function probeFailover(options: RecoveryProbeOptions): Promise<FailoverResult> {
  const group = await startRedisSentinel();
  const { sentinels, name } = group;
  const observerRedis = new Redis({ sentinels, name, commandTimeout: 2_000, maxRetriesPerRequest: 2 });
  observerRedis.on('error', () => undefined); // the failover is the point
  let kit: ProbeKit | undefined;
  try {
    kit = await ProbeKit.open(options, USERS, observerRedis);
    // The consents are on the replica before the primary dies: losing them is not this probe's subject.
    await observerRedis.call('WAIT', '1', '5000');
    const workers = await kit.spawn(2, { REDIS_SENTINEL: JSON.stringify({ sentinels, name }) });
    // The first process's burst goes alone, so one of its token requests is surely the held one.
    workers[0].send({ type: 'hold' });
    const bursts = [kit.serve(workers[0], CALLS)];
    await kit.capped(workers[0].next('held'), 'token request from the holder');
    bursts.push(kit.serve(workers[1], CALLS));

    const primaryPort = await group.primaryPort();
    const primary = group.nodes.find((node) => node.port === primaryPort)!;
    const killedAt = now();
    await primary.stop('SIGKILL');
    workers[0].send({ type: 'release' });
    await kit.capped(group.waitForFailover(primaryPort, kit.capMs), 'failover');
    const promotedAt = now();
    // Brought back, as an operator would: the sentinels make it the new primary's replica. Until it
    // has synced, no write can be acknowledged by a replica (WAIT, replicasToAck 'auto' found one at
    // the start), so results written meanwhile stay in memory and count only then.
    await primary.start();
    bursts.push(...workers.map((w) => kit!.serve(w, CALLS)));
    const done = await kit.capped(Promise.all(bursts.map((b) => b.done)), 'end of the bursts');
    const servedAt = latest(done.map((d) => d.at));
    return {
      ...(await kit.outcome(done)),
      promotionMs: promotedAt - killedAt,
      recoveryMs: servedAt - promotedAt,
      fromKillMs: servedAt - killedAt,
    };
  } finally {
    await kit?.close();
    observerRedis.disconnect();
    await group.close();
  }
}
