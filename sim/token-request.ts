// Parsing and client authentication of a token request, apart from HTTP so the rules read in one place.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { OAuthErrorBody } from './oauth-errors';

/** A well-formed request from the authenticated client. */
export type TokenRequest =
  | { grantType: 'authorization_code'; clientId: string; code: string; redirectUri: string }
  | { grantType: 'refresh_token'; clientId: string; refreshToken: string };

/** Why a request is refused before any grant is looked at. */
export interface TokenRejection {
  error: Exclude<OAuthErrorBody['error'], 'invalid_grant'>;
  description: string;
}

const FIELDS = ['grant_type', 'client_id', 'client_secret', 'code', 'redirect_uri', 'refresh_token'] as const;
type Fields = Partial<Record<(typeof FIELDS)[number], string>>;

const missing = (name: string): TokenRejection => ({
  error: 'invalid_request',
  description: `Missing required parameter: ${name}`,
});

/**
 * Checks, in order: every field is a string; `grant_type` is present and supported; the client
 * credentials are present and right; the grant's own fields are present. Wrong credentials are
 * `invalid_client` whatever the grant, so a misconfigured app never learns anything about tokens.
 */
export function parseTokenRequest(
  body: unknown,
  client: { clientId: string; clientSecret: string },
): TokenRequest | TokenRejection {
  const fields = readFields(body);
  if (fields === null) return { error: 'invalid_request', description: 'Every parameter must be a string.' };
  const { grant_type: grantType, client_id: clientId, client_secret: clientSecret } = fields;
  if (grantType === undefined) return missing('grant_type');
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
    return { error: 'unsupported_grant_type', description: 'Unsupported grant type.' };
  }
  if (clientId === undefined) return missing('client_id');
  if (clientSecret === undefined) return missing('client_secret');
  // Both comparisons always run, so timing does not tell which one failed.
  const idOk = sameText(clientId, client.clientId);
  const secretOk = sameText(clientSecret, client.clientSecret);
  if (!idOk || !secretOk) return { error: 'invalid_client', description: 'Unauthorized' };
  if (grantType === 'refresh_token') {
    if (fields.refresh_token === undefined) return missing('refresh_token');
    return { grantType, clientId, refreshToken: fields.refresh_token };
  }
  if (fields.code === undefined) return missing('code');
  if (fields.redirect_uri === undefined) return missing('redirect_uri');
  return { grantType, clientId, code: fields.code, redirectUri: fields.redirect_uri };
}

/** The known fields; `null` when one is not a string (a JSON number, a repeated form field). */
function readFields(body: unknown): Fields | null {
  const source = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const fields: Fields = {};
  for (const name of FIELDS) {
    const value = source[name];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') return null;
    fields[name] = value;
  }
  return fields;
}

// Hashing first gives equal lengths, so the comparison leaks neither length nor content through timing.
function sameText(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
