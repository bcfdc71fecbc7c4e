// ACE's store adapter contract (clientInfo and other per-tenant settings) and what our two
// adapters share.

/**
 * What ACE calls on `addon.settings` for a Connect app (see ACE's lib/store/redis.js). The Forge
 * association methods are left out: this app is Connect only.
 */
export interface AceStore {
  get(key: string, clientKey?: string): Promise<unknown>;
  set(key: string, value: unknown, clientKey?: string): Promise<unknown>;
  del(key: string, clientKey?: string): Promise<void>;
  /** Saves an install payload; returns it without its secrets, because ACE logs the result. */
  saveInstallation(value: Record<string, unknown>, clientKey: string): Promise<Record<string, unknown>>;
  getAllClientInfos(): Promise<unknown[]>;
  /** ACE only uses this to decide on auto-registration, which this app never does. */
  isMemoryStore(): boolean;
  close(): Promise<void>;
}

/** Adapter names, as `store.adapter` in config.json. */
export const ACE_STORE_ADAPTERS = Object.freeze({ memory: 'jtr-memory', redis: 'jtr-redis' });

/** ACE stores strings as they are and everything else as JSON; so do we. */
export function serialize(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The inverse of {@link serialize}: JSON when it parses, else the string itself. */
export function deserialize(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** An install payload as ACE may log it: no shared secret. */
export function withoutSecrets(value: Record<string, unknown>): Record<string, unknown> {
  const { sharedSecret: _secret, ...rest } = value;
  return rest;
}
