// A consent whose grant does not include the Jira site of the user's Confluence waits here while
// the user picks one of their sites. It holds tokens, so it is sealed (AES-GCM) even in Redis,
// bound to the popup by a fresh nonce cookie, and taken once.

import type { Request, Response } from 'express';
import type { TokenResponse, UserRef } from 'jira-token-rotation';
import type { SiteOption } from './consent';
import { bindBrowser, takeBinding } from './consent-binding';
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
    private readonly secure: boolean,
  ) {}

  /** Keeps `choice` for the browser of `res` (a new nonce cookie). */
  async offer(res: Response, choice: SiteChoice): Promise<void> {
    const binding = bindBrowser(res, CONSENT_TTL_MS, this.secure);
    await this.store.add(binding, this.box.seal(JSON.stringify(choice), binding), CONSENT_TTL_MS);
  }

  /** The choice waiting for this browser, once; `null` if none (expired, taken, other browser). */
  async take(req: Request, res: Response): Promise<SiteChoice | null> {
    const binding = takeBinding(req, res, this.secure);
    const sealed = binding === undefined ? null : await this.store.take(binding);
    const text = sealed === null ? null : this.box.open(sealed, binding!);
    if (text === null) return null;
    const choice = JSON.parse(text) as SiteChoice;
    return choice && Array.isArray(choice.sites) && choice.user && choice.tokens ? choice : null;
  }
}
