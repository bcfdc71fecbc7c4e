// AES-256-GCM for short-lived server-side values that hold tokens (a consent waiting for its site
// choice), so that they are encrypted at rest in Redis too.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Seals and opens strings; `aad` binds a box to where it is stored. */
export class SealedBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new TypeError('SealedBox: the key must be 32 bytes');
  }

  /** `base64url(iv | tag | ciphertext)`. */
  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv).setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The plaintext, or `null` if the box was tampered with, sealed elsewhere or with another key. */
  open(sealed: string, aad: string): string | null {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length < 28) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, 12))
        .setAAD(Buffer.from(aad, 'utf8'))
        .setAuthTag(bytes.subarray(12, 28));
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}
