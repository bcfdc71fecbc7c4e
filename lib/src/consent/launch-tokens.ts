// Launch tokens: a short-lived HMAC-signed ticket that carries a verified user from the page into
// the consent popup, where the page's own authentication (a Connect JWT, a header) does not reach.
// It only lets its bearer start one consent for that user; it never travels in a URL (the page
// posts it into the popup), and its nonce is claimed at use, so it works once.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { UserRef } from '../types';

const VERSION = 'v1';
const MAX_TOKEN_LENGTH = 2048;

/** Options of {@link LaunchTokens}. */
export interface LaunchTokenOptions {
  /** The HMAC key, at least 32 bytes; every process that verifies must share it. */
  key: Buffer;
  /** Lifetime, ms. Default 60 000: the time between a click on "Connect Jira" and the popup. */
  ttlMs?: number;
  /** The clock, epoch ms. Default `Date.now`. */
  now?: () => number;
}

/** A verified launch token. */
export interface Launch {
  user: UserRef;
  /** Unique per token: the route claims it so that a replay fails. */
  nonce: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** Issues and verifies launch tokens. */
export class LaunchTokens {
  private readonly key: Buffer;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: LaunchTokenOptions) {
    if (!Buffer.isBuffer(options.key) || options.key.length < 32) {
      throw new TypeError('LaunchTokens: key must be a Buffer of at least 32 bytes');
    }
    this.key = options.key;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** A token for `user`, valid for `ttlMs`. */
  issue(user: UserRef): string {
    const claims = {
      c: user.clientKey,
      a: user.accountId,
      e: this.now() + this.ttlMs,
      n: randomBytes(16).toString('base64url'),
    };
    const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    return `${VERSION}.${payload}.${this.mac(payload).toString('base64url')}`;
  }

  /** The launch of a valid, unexpired token; `null` for anything else (never throws). */
  verify(token: unknown): Launch | null {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
    const [version, payload, mac, ...rest] = token.split('.');
    if (version !== VERSION || !payload || !mac || rest.length > 0) return null;
    const given = Buffer.from(mac, 'base64url');
    const expected = this.mac(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      const { c, a, e, n } = claims;
      if (typeof c !== 'string' || typeof a !== 'string' || typeof e !== 'number' || typeof n !== 'string')
        return null;
      if (c === '' || a === '' || n === '' || this.now() >= e) return null;
      return { user: { clientKey: c, accountId: a }, nonce: n, expiresAt: e };
    } catch {
      return null;
    }
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.key).update(`${VERSION}.${payload}`).digest();
  }
}
