// How a user becomes a key: an injective encoding, so clientKeys or accountIds holding `:`, `{`,
// `}`, `*`, newlines or any unicode can neither collide nor escape their tenant's key space.

import type { UserRef } from '../types';

const encode = (value: string): string => Buffer.from(value, 'utf8').toString('base64url');
const decode = (value: string): string => Buffer.from(value, 'base64url').toString('utf8');

/**
 * The Redis Cluster hash tag of a tenant: every key of one tenant (records, tenant set, locks)
 * carries it, so they share a slot and one Lua script can touch them together.
 */
export function tenantTag(clientKey: string): string {
  return `{t:${encode(clientKey)}}`;
}

/** A stable, delimiter-safe id of a user: `<base64url clientKey>.<base64url accountId>`. */
export function userId(user: UserRef): string {
  return `${encode(user.clientKey)}.${encode(user.accountId)}`;
}

/** Inverse of {@link userId}. */
export function parseUserId(id: string): UserRef {
  const dot = id.indexOf('.');
  if (dot <= 0) throw new TypeError('Malformed user id');
  return { clientKey: decode(id.slice(0, dot)), accountId: decode(id.slice(dot + 1)) };
}

/** The encoded account id alone, for keys that already carry the tenant tag. */
export function encodeAccountId(accountId: string): string {
  return encode(accountId);
}

/** The encoded client key alone. */
export function encodeClientKey(clientKey: string): string {
  return encode(clientKey);
}

/**
 * Checks that a UserRef is two non-empty, well-formed strings of sane length; throws a TypeError
 * otherwise. Well-formed matters for injectivity: UTF-8 encodes every lone surrogate as U+FFFD, so
 * `'a\uD800'` and `'a\uDFFF'` would share a key (and one user would get another's token).
 */
export function assertUserRef(user: unknown): asserts user is UserRef {
  const u = user as Partial<UserRef> | null;
  if (!u || typeof u !== 'object') throw new TypeError('user must be { clientKey, accountId }');
  for (const field of ['clientKey', 'accountId'] as const) {
    const value = u[field];
    if (typeof value !== 'string' || value.length === 0 || value.length > 512) {
      throw new TypeError(`user.${field} must be a non-empty string of at most 512 characters`);
    }
    if (!isWellFormed(value)) {
      throw new TypeError(`user.${field} must be a well-formed string (no lone UTF-16 surrogate)`);
    }
  }
}

/** `String.prototype.isWellFormed` (Node 20; the ES2022 typings predate it). */
function isWellFormed(value: string): boolean {
  return (value as unknown as { isWellFormed(): boolean }).isWellFormed();
}
