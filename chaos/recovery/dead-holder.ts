// Recovery probe 1, a dead holder: three app processes on a Redis of their own; the holder's token
// request reaches the simulator (which rotates), its answer is held, and the holder is SIGKILLed
// while the other two processes' calls wait behind its lease. Timed from the kill: the first valid
// token a waiter gets, and every call served, the waiters' and those of a burst sent right after.

import { startRedisServer } from '../../support/redis-server';
import { type ProbeOutcome, ProbeKit, type RecoveryProbeOptions, latest, now } from './probe-kit';

/** Calls per surviving process, in each of its two bursts. */
const CALLS = 10;

export interface DeadHolderResult extends ProbeOutcome {
  /** From the SIGKILL to the first valid token served to a surviving process's waiter. */
  firstServedMs: number;
  /** From the SIGKILL to every call served: the waiters', and a new burst's sent after the kill. */
  recoveryMs: number;
}

export async function probeDeadHolder(options: RecoveryProbeOptions): Promise<DeadHolderResult> {
  const redis = await startRedisServer();
  let kit: ProbeKit | undefined;
  try {
    kit = await ProbeKit.open(options, 1, redis.url);
    const [holder, ...survivors] = await kit.spawn(3);
    holder.send({ type: 'hold' });
    kit.serve(holder, CALLS); // dies with the holder
    await kit.capped(holder.next('held'), 'token request from the holder');
    const waiters = survivors.map((s) => kit!.serve(s, CALLS));
    await Promise.all(survivors.map((s) => kit!.waiting(s)));

    const killedAt = now();
    await holder.kill();
    const newBurst = survivors.map((s) => kit!.serve(s, CALLS));
    const firstServedAt = await kit.capped(
      Promise.race(waiters.map((w) => w.firstOkAt)),
      'valid token for a waiter',
    );
    const done = await kit.capped(
      Promise.all([...waiters, ...newBurst].map((b) => b.done)),
      'end of the bursts',
    );
    return {
      ...(await kit.outcome(done)),
      firstServedMs: firstServedAt - killedAt,
      recoveryMs: latest(done.map((d) => d.at)) - killedAt,
    };
  } finally {
    await kit?.close();
    await redis.close();
  }
}
