// Scope strings: space-separated, order-insensitive, duplicates meaningless.

/** The scope that yields a refresh token. */
export const OFFLINE_ACCESS = 'offline_access';

/** The distinct scopes of a space-separated string, in first-seen order. */
export function parseScopes(scope: string): string[] {
  return [...new Set(scope.split(/\s+/).filter((s) => s !== ''))];
}
