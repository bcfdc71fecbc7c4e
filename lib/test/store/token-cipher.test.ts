// TokenCipher: AES-256-GCM bound to user and generation, key ids for rotation, and key parsing
// that names the option but never echoes the value.

import { createHash, randomBytes } from 'node:crypto';
import { DecryptionError, TokenCipher, parseEncryptionKey } from '../../src/store/token-cipher';
import type { TokenSecrets, UserRef } from '../../src/types';

const alice: UserRef = { clientKey: 'tenant-1', accountId: 'alice' };
const secrets: TokenSecrets = {
  accessToken: 'at-plaintext-access-token',
  refreshToken: 'rt-plaintext-refresh-token',
};
const K1 = randomBytes(32);
const K2 = randomBytes(32);
const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

/** Flips one bit of one byte of the base64url part `index` of a ciphertext. */
function tamper(ciphertext: string, index: number, byte = 0): string {
  const parts = ciphertext.split('.');
  const bytes = Buffer.from(parts[index], 'base64url');
  bytes[byte] ^= 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

function decryptError(run: () => unknown): DecryptionError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DecryptionError);
  return caught as DecryptionError;
}

describe('TokenCipher', () => {
  const cipher = new TokenCipher([K1]);

  it('round-trips the secrets', () => {
    const ciphertext = cipher.encrypt(alice, 'gen-1', secrets);
    expect(cipher.decrypt(alice, 'gen-1', ciphertext)).toEqual(secrets);
  });

  it('uses a fresh IV each time', () => {
    expect(cipher.encrypt(alice, 'gen-1', secrets)).not.toBe(cipher.encrypt(alice, 'gen-1', secrets));
  });

  it('has the format v1.<keyId>.<iv>.<tag>.<body> with a 12-byte IV and a 16-byte tag', () => {
    const [version, id, iv, tag, body] = cipher.encrypt(alice, 'gen-1', secrets).split('.');
    expect(version).toBe('v1');
    expect(id).toBe(keyId(K1));
    expect(Buffer.from(iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64url')).toHaveLength(16);
    expect(body.length).toBeGreaterThan(0);
  });

  it('leaks no plaintext, in clear or in base64', () => {
    const ciphertext = cipher.encrypt(alice, 'gen-1', secrets);
    for (const secret of [secrets.accessToken, secrets.refreshToken, 'plaintext']) {
      expect(ciphertext).not.toContain(secret);
      expect(ciphertext).not.toContain(Buffer.from(secret).toString('base64url'));
      expect(Buffer.from(ciphertext.split('.')[4], 'base64url').toString('latin1')).not.toContain(secret);
    }
  });

  it.each([
    ['another account of the same tenant', { clientKey: 'tenant-1', accountId: 'bob' }],
    ['the same account in another tenant', { clientKey: 'tenant-2', accountId: 'alice' }],
    ['a user whose clientKey holds the separator', { clientKey: 'tenant-1.alice', accountId: 'alice' }],
  ])('refuses a ciphertext for %s', (_, other) => {
    const ciphertext = cipher.encrypt(alice, 'gen-1', secrets);
    expect(decryptError(() => cipher.decrypt(other, 'gen-1', ciphertext)).message).toBe(
      'Ciphertext failed authentication',
    );
  });

  it('refuses a ciphertext of another generation', () => {
    const ciphertext = cipher.encrypt(alice, 'gen-1', secrets);
    decryptError(() => cipher.decrypt(alice, 'gen-2', ciphertext));
  });

  it.each([
    ['the IV', 2],
    ['the tag', 3],
    ['the body', 4],
  ])('refuses a ciphertext with a tampered byte in %s', (_, index) => {
    const ciphertext = cipher.encrypt(alice, 'gen-1', secrets);
    decryptError(() => cipher.decrypt(alice, 'gen-1', tamper(ciphertext, index)));
  });

  it('refuses a tampered byte anywhere in the body', () => {
    const ciphertext = cipher.encrypt(alice, 'gen-1', secrets);
    const length = Buffer.from(ciphertext.split('.')[4], 'base64url').length;
    for (let byte = 0; byte < length; byte++) {
      decryptError(() => cipher.decrypt(alice, 'gen-1', tamper(ciphertext, 4, byte)));
    }
  });

  it.each([
    ['an empty string', ''],
    ['garbage', 'not-a-ciphertext'],
    ['another version', 'v2.aaaaaaaa.AAAA.AAAA.AAAA'],
    ['too few parts', 'v1.aaaaaaaa.AAAA.AAAA'],
    ['too many parts', 'v1.aaaaaaaa.AAAA.AAAA.AAAA.AAAA'],
  ])('refuses a malformed ciphertext: %s', (_, ciphertext) => {
    decryptError(() => cipher.decrypt(alice, 'gen-1', ciphertext));
  });

  it('refuses a truncated IV or tag under a known key id', () => {
    const parts = cipher.encrypt(alice, 'gen-1', secrets).split('.');
    decryptError(() =>
      cipher.decrypt(alice, 'gen-1', [parts[0], parts[1], '', parts[3], parts[4]].join('.')),
    );
    decryptError(() =>
      cipher.decrypt(alice, 'gen-1', [parts[0], parts[1], parts[2], 'AAAA', parts[4]].join('.')),
    );
  });

  describe('key rotation', () => {
    it('decrypts with [K2, K1] what [K1] encrypted', () => {
      const old = new TokenCipher([K1]).encrypt(alice, 'gen-1', secrets);
      expect(new TokenCipher([K2, K1]).decrypt(alice, 'gen-1', old)).toEqual(secrets);
    });

    it('encrypts with the first key of [K2, K1]', () => {
      const rotated = new TokenCipher([K2, K1]);
      const ciphertext = rotated.encrypt(alice, 'gen-1', secrets);
      expect(ciphertext.split('.')[1]).toBe(keyId(K2));
      expect(new TokenCipher([K2]).decrypt(alice, 'gen-1', ciphertext)).toEqual(secrets);
      decryptError(() => new TokenCipher([K1]).decrypt(alice, 'gen-1', ciphertext));
    });

    it('refuses an unknown key id, naming the id but not the key', () => {
      const ciphertext = new TokenCipher([K1]).encrypt(alice, 'gen-1', secrets);
      const error = decryptError(() => new TokenCipher([K2]).decrypt(alice, 'gen-1', ciphertext));
      expect(error.message).toContain(keyId(K1));
      expect(error.message).not.toContain(K1.toString('base64'));
      expect(error.message).not.toContain(K1.toString('hex'));
    });

    it('refuses a ciphertext whose key id was swapped for another configured key', () => {
      const both = new TokenCipher([K1, K2]);
      const parts = both.encrypt(alice, 'gen-1', secrets).split('.');
      parts[1] = keyId(K2);
      decryptError(() => both.decrypt(alice, 'gen-1', parts.join('.')));
    });
  });

  it('needs at least one key', () => {
    expect(() => new TokenCipher([])).toThrow(TypeError);
  });

  it('ephemeral ciphers round-trip and do not share a key', () => {
    const one = TokenCipher.ephemeral();
    const ciphertext = one.encrypt(alice, 'gen-1', secrets);
    expect(one.decrypt(alice, 'gen-1', ciphertext)).toEqual(secrets);
    decryptError(() => TokenCipher.ephemeral().decrypt(alice, 'gen-1', ciphertext));
  });

  it('never puts a secret into a decryption error', () => {
    const ciphertext = cipher.encrypt(alice, 'gen-1', secrets);
    const errors = [
      decryptError(() => cipher.decrypt(alice, 'gen-2', ciphertext)),
      decryptError(() => cipher.decrypt(alice, 'gen-1', tamper(ciphertext, 4))),
      decryptError(() => new TokenCipher([K2]).decrypt(alice, 'gen-1', ciphertext)),
    ];
    for (const error of errors) {
      expect(error.message).not.toContain(secrets.accessToken);
      expect(error.message).not.toContain(secrets.refreshToken);
    }
  });
});

describe('parseEncryptionKey', () => {
  it('parses base64 of 32 bytes', () => {
    expect(parseEncryptionKey(K1.toString('base64'), 'encryptionKey').equals(K1)).toBe(true);
  });

  it('accepts base64url and surrounding whitespace', () => {
    expect(parseEncryptionKey(K1.toString('base64url'), 'encryptionKey').equals(K1)).toBe(true);
    expect(parseEncryptionKey(`  ${K1.toString('base64')}\n`, 'encryptionKey').equals(K1)).toBe(true);
  });

  it.each([
    ['not base64', 'this is not a key!!'],
    [
      'base64 with an inner space',
      `${K1.toString('base64').slice(0, 20)} ${K1.toString('base64').slice(20)}`,
    ],
    ['16 bytes', randomBytes(16).toString('base64')],
    ['64 bytes', randomBytes(64).toString('base64')],
    ['31 bytes', randomBytes(31).toString('base64')],
    ['an empty string', ''],
  ])('rejects %s with a TypeError naming the option and not the value', (_, value) => {
    let caught: unknown;
    try {
      parseEncryptionKey(value, 'encryptionKey[1]');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TypeError);
    const message = (caught as TypeError).message;
    expect(message).toContain('encryptionKey[1]');
    if (value.trim() !== '') expect(message).not.toContain(value.trim());
  });

  it.each([undefined, null, 42, Buffer.alloc(32)])('rejects a non-string (%p)', (value) => {
    expect(() => parseEncryptionKey(value, 'encryptionKey')).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringContaining('encryptionKey') }),
    );
  });
});
