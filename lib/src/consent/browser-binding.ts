// Binds a consent to the browser that started it (RFC 6749 §10.12): POST <mount>/connect sets a
// random nonce cookie in the popup and the state remembers its hash, so a callback URL replayed in
// another browser, or planted in this one, is refused before any code exchange. A pending site
// choice is bound the same way.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { appendSetCookie } from './http-answers';

const COOKIE = 'jtr-consent';

/** Sets and takes the popup's nonce cookie. */
export class BrowserBinding {
  /**
   * @param path the cookie's path: only the router's routes need it (the callback and the site choice).
   * @param secure whether the cookie is sent over https only.
   */
  constructor(
    private readonly path: string,
    private readonly secure: boolean,
  ) {}

  /** Sets a fresh nonce cookie for `ttlMs`; returns the hash to remember. */
  bind(res: ServerResponse, ttlMs: number): string {
    const value = randomBytes(32).toString('base64url');
    const seconds = Math.floor(ttlMs / 1000);
    // SameSite=Lax: sent on the callback, a top-level GET coming from Atlassian's site; never on
    // another site's POST to <mount>/site.
    appendSetCookie(
      res,
      `${COOKIE}=${value}; Max-Age=${seconds}; Path=${this.path}; ` +
        `Expires=${new Date(Date.now() + seconds * 1000).toUTCString()}${this.attributes()}`,
    );
    return hash(value);
  }

  /** The hash of the request's nonce cookie, if any; the cookie is cleared: each one serves once. */
  take(req: IncomingMessage, res: ServerResponse): string | undefined {
    appendSetCookie(
      res,
      `${COOKIE}=; Path=${this.path}; Expires=${new Date(0).toUTCString()}${this.attributes()}`,
    );
    const value = readCookie(req.headers.cookie, COOKIE);
    return value === undefined || value === '' ? undefined : hash(value);
  }

  private attributes(): string {
    return `; HttpOnly${this.secure ? '; Secure' : ''}; SameSite=Lax`;
  }
}

/** Compares two hashes in constant time. */
export function sameBinding(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given, 'hex');
  const b = Buffer.from(expected, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

function hash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** One cookie's value from a Cookie header (no cookie parser needed for a single name). */
function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
