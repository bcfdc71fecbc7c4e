// A user from outside the package (a resolver, a verified JWT) is checked once, where it enters:
// one the token store cannot hold is the request's fault, a 400, never a TypeError and a 500.

import { InvalidUserError } from './errors';
import { assertUserRef } from './store/user-key';
import type { UserRef } from './types';

/**
 * Checks a user that came from outside: two non-empty, well-formed strings of at most 512
 * characters. The middleware and the consent router apply it to what `resolveUser` returns.
 * @throws InvalidUserError (status 400, code `jira_invalid_user`) otherwise.
 */
export function assertValidUser(user: unknown): asserts user is UserRef {
  try {
    assertUserRef(user);
  } catch (error) {
    throw new InvalidUserError(error);
  }
}
