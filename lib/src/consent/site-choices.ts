// A consent whose grant does not include the site of the user's tenant waits here while the user
// picks one of their sites. It holds tokens, so it is sealed (AES-GCM) even in Redis, bound to the
// popup by a fresh nonce cookie, and taken once.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenResponse, UserRef } from '../types';
import type { BrowserBinding } from './browser-binding';
import type { SiteOption } from './granted-sites';
import { CONSENT_TTL_MS } from './consent-states';
import type { OneTimeStore } from './one-time-store';
import type { SealedBox } from './sealed-box';

/** A consent waiting for its site. */
export interface SiteChoice {
  user: UserRef;
  tokens: TokenResponse;
  sites: SiteOption[];
}

/** Offers and takes pending site choices. */
export class SiteChoices {
  constructor(
    private readonly store: OneTimeStore,
    private readonly box: SealedBox,
    private readonly binding: BrowserBinding,
  ) {}

  /** Keeps `choice` for the browser of `res` (a new nonce cookie). */
  async offer(res: ServerResponse, choice: SiteChoice): Promise<void> {
    const binding = this.binding.bind(res, CONSENT_TTL_MS);
    await this.store.add(binding, this.box.seal(JSON.stringify(choice), binding), CONSENT_TTL_MS);
  }

  /** The choice waiting for this browser, once; `null` if none (expired, taken, other browser). */
  async take(req: IncomingMessage, res: ServerResponse): Promise<SiteChoice | null> {
    const binding = this.binding.take(req, res);
    const sealed = binding === undefined ? null : await this.store.take(binding);
    const text = sealed === null ? null : this.box.open(sealed, binding!);
    if (text === null) return null;
    const choice = JSON.parse(text) as SiteChoice;
    return choice && Array.isArray(choice.sites) && choice.user && choice.tokens ? choice : null;
  }
}
