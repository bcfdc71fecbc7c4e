// Consent and its end: a consent's tokens stored as a new generation, and a user's or a whole
// tenant's tokens forgotten, each told to every process so no cached copy outlives it.

import { randomBytes } from 'node:crypto';
import { StoreUnavailableError } from '../errors';
import { validateTokenResponse } from '../oauth/oauth-client';
import { publishNotice, who } from '../protocol/log-context';
import type { JiraSite, TokenRecord, TokenResponse, UserRef } from '../types';
import { encodeClientKey, userId } from '../store/user-key';
import type { AccessTokenCache } from './access-token-cache';
import type { TokenManagerDeps } from './token-manager-deps';

/** Writes and deletes whole records outside the rotation protocol; callers check user and state. */
export class ConsentRecords {
  constructor(
    private readonly deps: Pick<TokenManagerDeps, 'records' | 'now' | 'logger' | 'notices' | 'origin'>,
    private readonly cache: AccessTokenCache,
  ) {}

  /** Stores a consent's tokens as a new generation (see `TokenManager.save`). */
  async save(user: UserRef, tokens: TokenResponse, site?: JiraSite): Promise<void> {
    const valid =
      tokens && typeof tokens === 'object'
        ? validateTokenResponse(tokens as unknown as Record<string, unknown>)
        : null;
    if (!valid || !valid.refreshToken) {
      throw new TypeError('save(): tokens must hold access_token, refresh_token and a positive expires_in');
    }
    if (site !== undefined) assertSite(site);
    const { records, now } = this.deps;
    const issued = now();
    // A consent starts a new generation: every late write of the old one now loses its CAS.
    const generation = randomBytes(16).toString('base64url');
    const ciphertext = records.seal(user, generation, {
      accessToken: valid.accessToken,
      refreshToken: valid.refreshToken,
    });
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await records.get(user);
      const record: TokenRecord = {
        generation,
        version: (current?.version ?? 0) + 1,
        state: 'active',
        expiresAt: issued + valid.expiresInSeconds * 1000,
        lastRotatedAt: issued,
        familyStartedAt: issued,
        site: site && { cloudId: site.cloudId, url: site.url },
        ciphertext,
      };
      if (await records.write(user, current, record)) {
        this.cache.invalidate(userId(user));
        await this.publish(user, 'invalidated');
        this.deps.logger.info({ event: 'consent_saved', ...who(user) }, 'Saved a new Jira consent');
        return;
      }
    }
    throw new StoreUnavailableError('The token record kept changing while saving the consent', 1);
  }

  /** Forgets the user's tokens. */
  async disconnect(user: UserRef): Promise<void> {
    await this.deps.records.delete(user);
    this.cache.invalidate(userId(user));
    await this.publish(user, 'invalidated');
    this.deps.logger.info({ event: 'disconnected', ...who(user) }, 'Forgot the Jira tokens of a user');
  }

  /** Forgets every token of a tenant; returns how many records were deleted. */
  async purgeTenant(clientKey: string): Promise<number> {
    const count = await this.deps.records.deleteTenant(clientKey);
    this.cache.invalidatePrefix(`${encodeClientKey(clientKey)}.`);
    await this.publish({ clientKey, accountId: '' }, 'tenant_purged');
    this.deps.logger.info(
      { event: 'tenant_purged', clientKey, count },
      'Forgot every Jira token of a tenant',
    );
    return count;
  }

  private publish(user: UserRef, kind: 'invalidated' | 'tenant_purged'): Promise<void> {
    return publishNotice(this.deps, user, kind);
  }
}

/** A Jira site as `save` may store it: req.jira.fetch builds its URLs from it. */
function assertSite(site: JiraSite): void {
  // cloudIds are UUIDs; anything else (a dot segment, a slash) could steer req.jira.fetch elsewhere.
  if (!site || typeof site.cloudId !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(site.cloudId)) {
    throw new TypeError('site.cloudId must be a cloudId (letters, digits and dashes)');
  }
  let url: URL;
  try {
    url = new URL(site.url);
  } catch {
    throw new TypeError('site.url must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError('site.url must be an http(s) URL');
}
