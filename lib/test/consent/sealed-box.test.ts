// Sealed boxes: what is sealed opens only with its key and its place (AAD), untampered.

import { randomBytes } from 'node:crypto';
import { SealedBox } from '../../src/consent/sealed-box';

describe('SealedBox', () => {
  const box = new SealedBox(randomBytes(32));

  test('round trip, and a fresh IV each time', () => {
    const sealed = box.seal('{"tokens":1}', 'place');
    expect(box.open(sealed, 'place')).toBe('{"tokens":1}');
    expect(box.seal('{"tokens":1}', 'place')).not.toBe(sealed);
    expect(sealed).not.toContain('tokens');
  });

  test('another place, another key, a flipped bit or garbage: null', () => {
    const sealed = box.seal('secret', 'place');
    const bytes = Buffer.from(sealed, 'base64url');
    bytes[bytes.length - 1] ^= 1;
    expect(box.open(sealed, 'elsewhere')).toBeNull();
    expect(new SealedBox(randomBytes(32)).open(sealed, 'place')).toBeNull();
    expect(box.open(bytes.toString('base64url'), 'place')).toBeNull();
    expect(box.open('short', 'place')).toBeNull();
  });

  test('the key must be 32 bytes', () => {
    expect(() => new SealedBox(randomBytes(16))).toThrow(TypeError);
  });
});
