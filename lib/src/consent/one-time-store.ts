// Short-lived, single-use values: OAuth states, claimed launch-token nonces and pending site
// choices. A value is added only if its id is new, and taken (read and deleted) in one step, so
// it is used once whichever process sees it. Only the SHA-256 of an id is used as a key: a store
// never holds a usable state.

import { createHash } from 'node:crypto';

/**
 * Where single-use values wait. {@link MemoryOneTimeStore} and {@link RedisOneTimeStore} are the
 * two the package has; implement this for another backend (it must add and take atomically).
 */
export interface OneTimeStore {
  /** Stores `value` under `id` for `ttlMs`, unless `id` is already there. Returns whether it stored. */
  add(id: string, value: string, ttlMs: number): Promise<boolean>;
  /** Returns and deletes the value in one step; `null` if unknown, already taken or expired. */
  take(id: string): Promise<string | null>;
}

/** The store key of an id: its SHA-256, hex. */
export function hashId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}
