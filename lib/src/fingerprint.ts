// Token fingerprints: the only form in which a token may appear in a log line (invariant 6).

import { createHash } from 'node:crypto';

/** The first 8 hex digits of the SHA-256 of a secret: enough to correlate, useless to an attacker. */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8);
}
