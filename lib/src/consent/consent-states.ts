// OAuth `state`s of consents in progress: a random state per popup, single-use, bound to the
// popup's browser by a nonce cookie, kept in a one-time store until Atlassian's callback.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UserRef } from '../types';
import { type BrowserBinding, sameBinding } from './browser-binding';
import type { OneTimeStore } from './one-time-store';

/** How long a consent may take, from the popup's start to Atlassian's callback. */
export const CONSENT_TTL_MS = 10 * 60_000;

/** Why a callback is refused. */
export type StateRefusal = 'expired' | 'other_browser';

/** Starts and finishes consents. */
export class ConsentStates {
  constructor(
    private readonly store: OneTimeStore,
    private readonly binding: BrowserBinding,
  ) {}

  /** A new state for `user`; sets the popup's nonce cookie on `res`. */
  async start(res: ServerResponse, user: UserRef): Promise<string> {
    const state = randomBytes(32).toString('base64url');
    const binding = this.binding.bind(res, CONSENT_TTL_MS);
    await this.store.add(state, JSON.stringify({ ...user, binding }), CONSENT_TTL_MS);
    return state;
  }

  /**
   * Takes the state (it is gone afterwards, whatever the outcome) and checks the nonce cookie.
   * @returns the user who started the consent, or why the callback is refused.
   */
  async finish(
    req: IncomingMessage,
    res: ServerResponse,
    state: string | undefined,
  ): Promise<UserRef | StateRefusal> {
    const text = state ? await this.store.take(state) : null;
    const binding = this.binding.take(req, res);
    const pending = parse(text);
    if (!pending) return 'expired';
    if (!sameBinding(binding, pending.binding)) return 'other_browser';
    return { clientKey: pending.clientKey, accountId: pending.accountId };
  }
}

function parse(text: string | null): (UserRef & { binding: string }) | null {
  if (!text) return null;
  try {
    const { clientKey, accountId, binding } = JSON.parse(text) as Record<string, unknown>;
    return typeof clientKey === 'string' && typeof accountId === 'string' && typeof binding === 'string'
      ? { clientKey, accountId, binding }
      : null;
  } catch {
    return null;
  }
}
