// The refresh step most vendor code has: POST the stored refresh token, store what comes back,
// keep the old refresh token if none came back. No lock, no version check, no in-doubt handling.

import type { UserRef } from 'jira-token-rotation';
import type { JsonTokenStore, VendorTokens } from './json-token-store';

/** A refusal or failure of the token endpoint, as vendor code sees it. */
export class VendorRefreshError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(`token endpoint answered ${status} ${code}`);
  }
}

export interface VendorRefreshDeps {
  store: JsonTokenStore;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  now: () => number;
}

/** Refreshes with `stored.refreshToken` and writes the result over whatever is stored now. */
export async function refreshAndStore(
  deps: VendorRefreshDeps,
  user: UserRef,
  stored: VendorTokens,
): Promise<VendorTokens> {
  const response = await fetch(deps.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'refresh_token',
      client_id: deps.clientId,
      client_secret: deps.clientSecret,
      refresh_token: stored.refreshToken,
    }),
  });
  const body = (await response.json().catch(() => ({}))) as {
    access_token?: string;
    refresh_token?: string;
    expires_in?: number;
    error?: string;
  };
  if (!response.ok || !body.access_token || !body.expires_in) {
    throw new VendorRefreshError(response.status, body.error ?? 'bad_response');
  }
  const next: VendorTokens = {
    accessToken: body.access_token,
    refreshToken: body.refresh_token ?? stored.refreshToken,
    expiresAt: deps.now() + body.expires_in * 1000,
  };
  await deps.store.set(user, next);
  return next;
}

/** "Looks expired": the same one-minute margin this project uses by default. */
export const VENDOR_EXPIRY_MARGIN_MS = 60_000;

export function looksExpired(tokens: VendorTokens, now: number): boolean {
  return tokens.expiresAt - VENDOR_EXPIRY_MARGIN_MS <= now;
}
