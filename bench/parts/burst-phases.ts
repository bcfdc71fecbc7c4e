// Where a burst's time goes, for this project: from the marks of every process, the rotating
// holder's wait before the token request, the request itself, the other processes' wake-up on the
// notice, and the time to send every answer once the token is there.

import type { BurstSample } from '../processes/app-protocol';
import { median, round1 } from '../stats-math';
import type { BurstTrial } from './burst-trial';

export interface BurstPhases {
  /** Holder: its first request entered → lock, reads and lease CAS done, token request going out. */
  preRotationMs: number;
  /** Holder: token request out → new tokens stored (the endpoint's latency, then the CAS). */
  rotationMs: number;
  /** Tokens stored → the last other process has its first token (notice + re-read); null at P = 1. */
  wakeMs: number | null;
  /** First token in hand → last answer sent, the slowest process: answering the waiting requests. */
  drainMs: number;
}

function trialPhases(samples: BurstSample[]): BurstPhases | null {
  const holder = samples.find((s) => s.marks.rotationStartedAt !== null && s.marks.rotatedAt !== null);
  const { firstEntryAt, rotationStartedAt, rotatedAt } = holder?.marks ?? {};
  if (!holder || firstEntryAt == null || rotationStartedAt == null || rotatedAt == null) return null;
  const others = samples.filter((s) => s !== holder && s.marks.firstTokenAt !== null);
  const drains = samples.flatMap(({ marks }) =>
    marks.firstTokenAt !== null && marks.lastFinishAt !== null
      ? [marks.lastFinishAt - marks.firstTokenAt]
      : [],
  );
  return {
    preRotationMs: rotationStartedAt - firstEntryAt,
    rotationMs: rotatedAt - rotationStartedAt,
    wakeMs: others.length ? Math.max(...others.map((s) => s.marks.firstTokenAt! - rotatedAt)) : null,
    drainMs: Math.max(...drains),
  };
}

/** Medians over the trials that had a holder; null when none had. */
export function burstPhases(trials: BurstTrial[]): BurstPhases | null {
  const all = trials.map((t) => trialPhases(t.samples)).filter((p): p is BurstPhases => p !== null);
  if (all.length === 0) return null;
  const wakes = all.flatMap((p) => (p.wakeMs === null ? [] : [p.wakeMs]));
  return {
    preRotationMs: round1(median(all.map((p) => p.preRotationMs))),
    rotationMs: round1(median(all.map((p) => p.rotationMs))),
    wakeMs: wakes.length ? round1(median(wakes)) : null,
    drainMs: round1(median(all.map((p) => p.drainMs))),
  };
}
