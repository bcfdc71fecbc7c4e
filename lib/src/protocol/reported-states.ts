// Remembers which broken record versions this process has already reported, so a record that
// stays broken is logged once when first met, not once per request that meets it.

/** At most this many remembered versions; the oldest is forgotten first (a Set keeps insertion order). */
const CAPACITY = 1_000;

export class ReportedStates {
  private readonly seen = new Set<string>();

  /** True the first time `key` is seen (since it was last forgotten), false after. */
  firstTime(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > CAPACITY) this.seen.delete(this.seen.values().next().value as string);
    return true;
  }
}
