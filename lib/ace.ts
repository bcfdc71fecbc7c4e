// The only file in lib/ that knows atlassian-connect-express: how ACE describes the Connect user.

import type { Request } from 'express';
import type { UserRef } from './types';

interface AceContext {
  clientKey?: unknown;
  userAccountId?: unknown;
}

/**
 * Resolves the user from ACE's `req.context`, which `addon.authenticate()` sets from the verified
 * Connect JWT. Returns null for an anonymous viewer (no `userAccountId`), so no token is fetched.
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
  return { clientKey, accountId: userAccountId };
}
