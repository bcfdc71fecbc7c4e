// The app's own secret, and the purpose keys derived from it (HKDF), so a key made for one use
// (launch tokens, sealed site choices) can never serve another.

import { hkdfSync, randomBytes } from 'node:crypto';

/**
 * `APP_SECRET`; else one derived from the first token encryption key, which every process of a
 * cluster already shares; else a random one, right for the single process of the memory stores.
 */
export function appSecret(config: { appSecret?: string; encryptionKey?: string[] }): Buffer {
  if (config.appSecret) return Buffer.from(config.appSecret, 'base64');
  const first = config.encryptionKey?.[0];
  return first ? deriveKey(Buffer.from(first, 'base64'), 'app secret') : randomBytes(32);
}

/** A 32-byte key for one `purpose`, derived from `secret` with HKDF-SHA256. */
export function deriveKey(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `jtr ${purpose}`, 32));
}
