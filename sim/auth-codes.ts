// Authorization codes: single-use, short-lived, bound to the client, the redirect URI, the account and the scope.

import { randomToken } from './random-token';

/** How long a code can be exchanged, on the sim clock. */
export const CODE_TTL_MS = 10 * 60 * 1000;

/** What a code stands for. */
export interface CodeGrant {
  clientId: string;
  redirectUri: string;
  accountId: string;
  scope: string;
}

interface StoredCode extends CodeGrant {
  expiresAt: number;
  used: boolean;
}

/** Issued codes. Used codes are kept, so a second exchange is recognized and refused. */
export class AuthCodeStore {
  private readonly codes = new Map<string, StoredCode>();

  issue(grant: CodeGrant, now: number): string {
    const code = randomToken();
    this.codes.set(code, { ...grant, expiresAt: now + CODE_TTL_MS, used: false });
    return code;
  }

  /**
   * Consumes a code if it is known, unused, unexpired and presented by the same client with the same
   * redirect URI. A refused attempt does not consume the code.
   */
  redeem(code: string, clientId: string, redirectUri: string, now: number): CodeGrant | undefined {
    const stored = this.codes.get(code);
    if (stored === undefined || stored.used || now >= stored.expiresAt) return undefined;
    if (stored.clientId !== clientId || stored.redirectUri !== redirectUri) return undefined;
    stored.used = true;
    return {
      clientId: stored.clientId,
      redirectUri: stored.redirectUri,
      accountId: stored.accountId,
      scope: stored.scope,
    };
  }
}
