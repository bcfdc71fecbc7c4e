// Binds a consent to the browser that started it (RFC 6749 §10.12): /jira/connect sets a random
// nonce cookie in the popup and the state remembers its hash, so a callback URL replayed in
// another browser, or planted in this one, is refused before any code exchange. A pending site
// choice is bound the same way.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

const COOKIE = 'jtr-consent';
/** Only the popup's routes need it: the callback and the site choice. */
const COOKIE_PATH = '/jira/';

/** Sets a fresh nonce cookie for `ttlMs`; returns the hash to remember. */
export function bindBrowser(res: Response, ttlMs: number, secure: boolean): string {
  const value = randomBytes(32).toString('base64url');
  // SameSite=Lax: sent on the callback, a top-level GET coming from Atlassian's site; never on
  // another site's POST to /jira/site.
  res.cookie(COOKIE, value, { httpOnly: true, sameSite: 'lax', secure, path: COOKIE_PATH, maxAge: ttlMs });
  return hash(value);
}

/** The hash of the request's nonce cookie, if any; the cookie is cleared: each one serves once. */
export function takeBinding(req: Request, res: Response, secure: boolean): string | undefined {
  res.clearCookie(COOKIE, { httpOnly: true, sameSite: 'lax', secure, path: COOKIE_PATH });
  const value = readCookie(req.headers.cookie, COOKIE);
  return value === undefined ? undefined : hash(value);
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

/** One cookie's value from a Cookie header (no cookie-parser needed for a single name). */
function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
