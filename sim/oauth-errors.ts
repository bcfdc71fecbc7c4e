// The token endpoint's error answers, shaped like Auth0's (Atlassian answers invalid_grant with 403).

import type { Response } from 'express';

/** An OAuth error body. */
export interface OAuthErrorBody {
  error: 'invalid_request' | 'unsupported_grant_type' | 'invalid_client' | 'invalid_grant';
  error_description: string;
}

const STATUS: Record<OAuthErrorBody['error'], number> = {
  invalid_request: 400,
  unsupported_grant_type: 400,
  invalid_client: 401,
  invalid_grant: 403,
};

/** The refresh grant's only failure text: Atlassian never says why a refresh token is dead. */
export const INVALID_REFRESH_TOKEN = 'Unknown or invalid refresh token.';

/** Sends an OAuth error with its status and no-store headers. */
export function sendOAuthError(res: Response, error: OAuthErrorBody['error'], description: string): void {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  res.status(STATUS[error]).json({ error, error_description: description } satisfies OAuthErrorBody);
}

/** The 5xx statuses the token endpoint's chaos answers. */
export type GatewayErrorStatus = 500 | 502 | 504;

const GATEWAY_ERROR_TEXT: Record<GatewayErrorStatus, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  504: 'Gateway Timeout',
};

/** The HTML a gateway in front of the auth server answers on a 5xx: not JSON, as in the field. */
export function gatewayErrorPage(status: GatewayErrorStatus): string {
  const text = GATEWAY_ERROR_TEXT[status];
  return `<html><head><title>${status} ${text}</title></head><body><center><h1>${status} ${text}</h1></center></body></html>\n`;
}
