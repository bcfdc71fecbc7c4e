// The user of a request, from ACE's verified request context: the Connect tenant and account.

import type { Request } from 'express';
// From the root entry, not its files: the ./ace bundle shares the root's InvalidUserError.
import { assertValidUser } from '..';
import type { UserRef } from '../types';

interface AceContext {
  clientKey?: unknown;
  userAccountId?: unknown;
}

/**
 * Resolves the user from ACE's `req.context`, which `addon.authenticate()` sets from the verified
 * Connect JWT. Returns null for an anonymous viewer (no `userAccountId`), so no token is fetched.
 *
 * @throws InvalidUserError (answered 400 by the middleware) for a verified identity the token store
 *   cannot hold, e.g. an `accountId` over 512 characters.
 */
export function aceUserResolver(req: Request): UserRef | null {
  const context = (req as Request & { context?: AceContext }).context;
  if (!context) return null;
  const { clientKey, userAccountId } = context;
  if (
    typeof clientKey !== 'string' ||
    clientKey === '' ||
    typeof userAccountId !== 'string' ||
    userAccountId === ''
  ) {
    return null;
  }
  const user = { clientKey, accountId: userAccountId };
  assertValidUser(user);
  return user;
}
