// The sim clock: a manual clock, so expiry rules are tested by advancing it, never by sleeping.

import type { SimClock } from './types';

/**
 * A clock that only moves when told to. Real time does not make it drift: latency chaos uses real
 * timers, while every expiry rule (codes, access tokens, leeway, inactivity, absolute lifetime)
 * reads this clock, so a test that waits on latency never ages a token by accident.
 */
export class ManualClock implements SimClock {
  private current: number;
  private readonly listeners = new Set<(now: number) => void>();

  constructor(startTime: number) {
    this.current = finite(startTime, 'startTime');
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    if (finite(ms, 'ms') < 0) throw new RangeError('The clock only advances forwards');
    this.current += ms;
    this.moved();
  }

  set(epochMs: number): void {
    this.current = finite(epochMs, 'epochMs');
    this.moved();
  }

  /** Calls `listener` after every move (late commits due on the sim clock); returns its removal. */
  onMove(listener: (now: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private moved(): void {
    for (const listener of [...this.listeners]) listener(this.current);
  }
}

function finite(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new RangeError(`${name} must be a finite number`);
  return value;
}
