// Unguessable token material for codes, access tokens and refresh tokens.

import { randomBytes } from 'node:crypto';

/** 32 random bytes, base64url: nothing in a token can be derived from another one. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}
