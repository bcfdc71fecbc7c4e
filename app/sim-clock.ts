// The simulator's clock only moves when told to. In the running sandbox it also follows real
// time, so that tokens expire by themselves (SIM_ACCESS_TOKEN_TTL) as well as by
// POST /sim/clock/advance; tests leave it manual, and never sleep.

import type { SimClock } from '../sim';

/** Advances `clock` by the real time that passes, every `intervalMs`. Returns a stop function. */
export function followRealTime(
  clock: SimClock,
  intervalMs = 1_000,
  now: () => number = Date.now,
): () => void {
  let last = now();
  const timer = setInterval(() => {
    const current = now();
    clock.advance(Math.max(0, current - last));
    last = current;
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
