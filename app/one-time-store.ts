// Short-lived, single-use values: OAuth states, claimed launch-token nonces and pending site
// choices. A value is added only if its id is new, and taken (read and deleted) in one step, so
// it is used once whichever process sees it. Only the SHA-256 of an id is used as a key: the
// store never holds a usable state.

import { createHash } from 'node:crypto';

/** Where single-use values wait. */
export interface OneTimeStore {
  /** Stores `value` under `id` for `ttlMs`, unless `id` is already there. Returns whether it stored. */
  add(id: string, value: string, ttlMs: number): Promise<boolean>;
  /** Returns and deletes the value in one step; `null` if unknown, already taken or expired. */
  take(id: string): Promise<string | null>;
}

/** The store key of an id. */
export function hashId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

/** The in-process store: right for one process (the sandbox, or tests). */
export class MemoryOneTimeStore implements OneTimeStore {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async add(id: string, value: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    this.evictExpired(now);
    const key = hashId(id);
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > now) return false;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + ttlMs });
    return true;
  }

  async take(id: string): Promise<string | null> {
    const key = hashId(id);
    const entry = this.entries.get(key);
    this.entries.delete(key);
    return entry && this.now() < entry.expiresAt ? entry.value : null;
  }

  /** Oldest first (insertion order); stops at the first live entry, so each add costs little. */
  private evictExpired(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.entries.delete(key);
    }
  }
}
