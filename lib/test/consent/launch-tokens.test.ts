// Launch tokens: bound to one user, signed, short-lived, unique; and the keys behind them.

import { randomBytes } from 'node:crypto';
import { deriveKey } from '../../src/consent/consent-router-options';
import { LaunchTokens } from '../../src/consent/launch-tokens';

const user = { clientKey: 'tenant-1', accountId: 'account-1' };

describe('LaunchTokens', () => {
  let now = 1_000_000;
  const key = randomBytes(32);
  const tokens = new LaunchTokens({ key, now: () => now });

  test('a token verifies to its user for 60 seconds, with a nonce of its own', () => {
    const token = tokens.issue(user);
    const launch = tokens.verify(token);
    expect(launch).toEqual({ user, nonce: expect.stringMatching(/^[\w-]{22}$/), expiresAt: now + 60_000 });
    expect(tokens.verify(tokens.issue(user))!.nonce).not.toBe(launch!.nonce);
    now += 59_999;
    expect(tokens.verify(token)?.user).toEqual(user);
    now += 1;
    expect(tokens.verify(token)).toBeNull();
  });

  test('tampering, another key, or garbage: null, never a throw', () => {
    const token = tokens.issue(user);
    const [version, payload, mac] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const otherUser = Buffer.from(JSON.stringify({ ...claims, a: 'account-2' })).toString('base64url');
    const other = new LaunchTokens({ key: randomBytes(32), now: () => now });
    for (const bad of [
      `${version}.${otherUser}.${mac}`,
      `v2.${payload}.${mac}`,
      `${token}.extra`,
      `${version}.${payload}.`,
      'x'.repeat(5000),
      '',
      undefined,
      42,
      { token },
    ]) {
      expect(tokens.verify(bad)).toBeNull();
    }
    expect(other.verify(token)).toBeNull();
  });

  test('a key shorter than 32 bytes is a TypeError', () => {
    expect(() => new LaunchTokens({ key: randomBytes(16) })).toThrow(TypeError);
  });
});

describe('deriveKey', () => {
  test('each purpose gets its own key', () => {
    const secret = randomBytes(32);
    expect(deriveKey(secret, 'launch token')).not.toEqual(deriveKey(secret, 'site choice'));
    expect(deriveKey(secret, 'launch token')).toEqual(deriveKey(secret, 'launch token'));
  });
});
