// Encryption at rest (invariant 7): AES-256-GCM, bound by AAD to the record's key and generation,
// with a key id in every ciphertext so keys can be rotated (the first encrypts, all decrypt).

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { TokenSecrets, UserRef } from '../types';
import { userId } from './user-key';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

interface Key {
  id: string;
  bytes: Buffer;
}

/** Thrown when a ciphertext cannot be authenticated with any configured key. */
export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

/**
 * Parses one base64 key of exactly 32 bytes. The message names the option, never the value.
 * @throws TypeError when the key is not base64 of 32 bytes.
 */
export function parseEncryptionKey(value: unknown, optionName: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value.trim())) {
    throw new TypeError(`${optionName} must be base64 of 32 random bytes (openssl rand -base64 32)`);
  }
  const bytes = Buffer.from(value.trim(), 'base64');
  if (bytes.length !== 32) {
    throw new TypeError(`${optionName} must decode to exactly 32 bytes, got ${bytes.length}`);
  }
  return bytes;
}

/**
 * Encrypts and decrypts the tokens of a record.
 * Format: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). The key id is the first
 * 8 hex digits of SHA-256 of the key, so it reveals nothing about the key.
 */
export class TokenCipher {
  private readonly keys: Key[];

  /** @param keys raw 32-byte keys; the first encrypts, every one decrypts. */
  constructor(keys: Buffer[]) {
    if (keys.length === 0) throw new TypeError('TokenCipher needs at least one key');
    this.keys = keys.map((bytes) => ({
      id: createHash('sha256').update(bytes).digest('hex').slice(0, 8),
      bytes,
    }));
  }

  /** A cipher with a random key, for the in-process default when no key is configured. */
  static ephemeral(): TokenCipher {
    return new TokenCipher([randomBytes(32)]);
  }

  encrypt(user: UserRef, generation: string, secrets: TokenSecrets): string {
    const key = this.keys[0];
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.bytes, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(user, generation));
    const plaintext = Buffer.from(
      JSON.stringify({ a: secrets.accessToken, r: secrets.refreshToken }),
      'utf8',
    );
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [
      VERSION,
      key.id,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      body.toString('base64url'),
    ].join('.');
  }

  /** @throws DecryptionError when the ciphertext is malformed, tampered, or under an unknown key. */
  decrypt(user: UserRef, generation: string, ciphertext: string): TokenSecrets {
    const parts = ciphertext.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION)
      throw new DecryptionError('Unrecognised ciphertext format');
    const [, keyId, iv, tag, body] = parts;
    const key = this.keys.find((k) => k.id === keyId);
    if (!key) throw new DecryptionError(`No configured encryption key has id ${keyId}`);
    let plaintext: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(aad(user, generation));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      plaintext = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      // GCM authentication failed: wrong user, wrong generation, or tampered bytes.
      throw new DecryptionError('Ciphertext failed authentication');
    }
    const parsed = JSON.parse(plaintext) as { a?: unknown; r?: unknown };
    if (typeof parsed.a !== 'string' || typeof parsed.r !== 'string' || !parsed.a || !parsed.r) {
      throw new DecryptionError('Decrypted record has an unexpected shape');
    }
    return { accessToken: parsed.a, refreshToken: parsed.r };
  }
}

/** The additional authenticated data: which user's record and which consent this belongs to. */
function aad(user: UserRef, generation: string): Buffer {
  return Buffer.from(`${userId(user)}|${generation}`, 'utf8');
}
