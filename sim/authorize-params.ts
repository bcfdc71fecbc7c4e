// Validation of the authorize request, shared by the consent page (GET) and its form post (POST).

import { parseScopes } from './scopes';

/** The only audience Atlassian's 3LO accepts. */
export const AUDIENCE = 'api.atlassian.com';

/** A validated authorize request. */
export interface AuthorizeParams {
  audience: string;
  clientId: string;
  scope: string;
  redirectUri: string;
  state: string | undefined;
  responseType: 'code';
}

/** Either the params or a message naming what is wrong (never echoing values). */
export type AuthorizeParse = { ok: true; params: AuthorizeParams } | { ok: false; message: string };

/** Reads and checks the authorize parameters from a query or a form body. */
export function parseAuthorizeParams(source: Record<string, unknown>, knownClientId: string): AuthorizeParse {
  const read = (name: string): string | undefined | null => {
    const value = source[name];
    if (value === undefined || value === '') return undefined;
    return typeof value === 'string' ? value : null;
  };
  const fields = ['audience', 'client_id', 'scope', 'redirect_uri', 'state', 'response_type'] as const;
  const values = Object.fromEntries(fields.map((f) => [f, read(f)])) as Record<
    (typeof fields)[number],
    string | undefined | null
  >;
  for (const field of fields) {
    if (values[field] === null) return { ok: false, message: `The parameter ${field} must appear once.` };
  }
  const { audience, client_id: clientId, scope, redirect_uri: redirectUri, state } = values;
  if (audience !== AUDIENCE) return { ok: false, message: `The audience must be ${AUDIENCE}.` };
  if (clientId !== knownClientId) return { ok: false, message: 'Unknown client_id.' };
  if (values.response_type !== 'code') return { ok: false, message: 'The response_type must be code.' };
  if (redirectUri === undefined || redirectUri === null || !isHttpUrl(redirectUri)) {
    return { ok: false, message: 'The redirect_uri must be an absolute http(s) URL without a fragment.' };
  }
  if (scope === undefined || scope === null || parseScopes(scope).length === 0) {
    return { ok: false, message: 'The scope is missing.' };
  }
  return {
    ok: true,
    params: {
      audience,
      clientId,
      scope: parseScopes(scope).join(' '),
      redirectUri,
      state: state ?? undefined,
      responseType: 'code',
    },
  };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hash === '' && !value.includes('#');
  } catch {
    return false;
  }
}
