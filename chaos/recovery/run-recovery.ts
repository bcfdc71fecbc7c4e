// The three recovery probes in turn (never at once: they time the machine's reaction), and the
// figures `npm run chaos` prints.

import { type DeadHolderResult, probeDeadHolder } from './dead-holder';
import { type FailoverResult, probeFailover } from './failover';
import type { ProbeOutcome, RecoveryProbeOptions } from './probe-kit';
import { type RedisBlipResult, probeRedisBlip } from './redis-blip';

export interface RecoveryReport {
  deadHolder: DeadHolderResult;
  blip: RedisBlipResult;
  failover: FailoverResult;
}

/** The headline figures, in ms. */
export interface RecoveryFigures {
  deadHolderRecoveryMs: number;
  blipRecoveryMs: number;
  failoverRecoveryMs: number;
}

export async function runRecoveryProbes(
  options: RecoveryProbeOptions,
  log: (line: string) => void = () => undefined,
): Promise<RecoveryReport> {
  log('recovery probe: dead holder');
  const deadHolder = await probeDeadHolder(options);
  log('recovery probe: Redis blip');
  const blip = await probeRedisBlip(options);
  log('recovery probe: Sentinel failover');
  const failover = await probeFailover(options);
  return { deadHolder, blip, failover };
}

export function recoveryFigures(report: RecoveryReport): RecoveryFigures {
  return {
    deadHolderRecoveryMs: Math.round(report.deadHolder.recoveryMs),
    blipRecoveryMs: Math.round(report.blip.recoveryMs),
    failoverRecoveryMs: Math.round(report.failover.recoveryMs),
  };
}

/** A probe passed when nothing was revoked or lost, every call was served, and nothing escaped or leaked. */
export function probePassed(outcome: ProbeOutcome): boolean {
  return (
    outcome.sim.revocations === 0 &&
    outcome.sim.invalidGrant === 0 &&
    outcome.storedRefreshTokenCurrent &&
    outcome.answers.unserved === 0 &&
    outcome.answers.otherAnswers === 0 &&
    outcome.unhandled === 0 &&
    outcome.leaked.length === 0
  );
}

/** What `npm run chaos` prints for the probes, one line each. */
export function recoveryLines(report: RecoveryReport): string[] {
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const facts = (o: ProbeOutcome): string =>
    `${o.answers.ok} calls served (${o.answers.served503} 503s and ${o.answers.otherAnswers} other answers retried, ` +
    `${o.answers.unserved} unserved); simulator: ${o.sim.tokenRequests} token requests, ${o.sim.rotations} rotations, ` +
    `${o.sim.leewayReuses} leeway reuses, ${o.sim.revocations} revocations; stored refresh tokens current: ` +
    `${o.storedRefreshTokenCurrent ? 'yes' : 'NO'}; ${probePassed(o) ? 'PASS' : 'FAIL'}`;
  const { deadHolder: d, blip: b, failover: f } = report;
  return [
    `dead holder         ${s(d.recoveryMs)} from the kill to every call served (first waiter ${s(d.firstServedMs)}); ${facts(d)}`,
    `Redis blip          ${s(b.recoveryMs)} from Redis back to every call served; ${facts(b)}`,
    `failover            ${s(f.recoveryMs)} from the promotion to every user served (${s(f.fromKillMs)} from the kill, ` +
      `promotion ${s(f.promotionMs)}); ${facts(f)}`,
  ];
}
