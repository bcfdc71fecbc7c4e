// The vendor-style store: one plain JSON value per user in the shared Redis, no version, no lock.

import type { Redis } from 'ioredis';
import type { UserRef } from 'jira-token-rotation';

/** What a vendor keeps per user. */
export interface VendorTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms. */
  expiresAt: number;
}

export class JsonTokenStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async get(user: UserRef): Promise<VendorTokens | null> {
    const json = await this.redis.get(this.key(user));
    return json === null ? null : (JSON.parse(json) as VendorTokens);
  }

  /** Last writer wins: exactly what most vendor code does. */
  async set(user: UserRef, tokens: VendorTokens): Promise<void> {
    await this.redis.set(this.key(user), JSON.stringify(tokens));
  }

  private key(user: UserRef): string {
    return `${this.keyPrefix}${encodeURIComponent(user.clientKey)}:${encodeURIComponent(user.accountId)}`;
  }
}
