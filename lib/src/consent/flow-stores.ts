// Where the consent flow keeps its short-lived state: the given stores, else Redis (shared by every
// process), else memory; and the pieces built on them, made once per router.

import { BrowserBinding } from './browser-binding';
import type { ResolvedConsentOptions } from './consent-router-options';
import { ConsentStates } from './consent-states';
import { LaunchTokens } from './launch-tokens';
import { MemoryOneTimeStore } from './memory-one-time-store';
import { MemoryRateLimitStore } from './memory-rate-limit-store';
import type { OneTimeStore } from './one-time-store';
import { RateLimiter, type RateLimitStore } from './rate-limiter';
import { RedisOneTimeStore } from './redis-one-time-store';
import { RedisRateLimitStore } from './redis-rate-limit-store';
import { SealedBox } from './sealed-box';
import { SiteChoices } from './site-choices';

/** The flow's stateful pieces. */
export interface FlowStores {
  launches: LaunchTokens;
  /** Claimed launch-token nonces: a launch token starts one consent. */
  launchNonces: OneTimeStore;
  states: ConsentStates;
  siteChoices: SiteChoices;
  /** One limiter for launch, connect and callback: keys start with the route's name. */
  limiter: RateLimiter;
}

/** Builds the pieces from the checked options. */
export function flowStores(o: ResolvedConsentOptions): FlowStores {
  const { redis, keyPrefix, stores, now } = o;
  const oneTime = (given: OneTimeStore | undefined, namespace: string): OneTimeStore =>
    given ?? (redis ? new RedisOneTimeStore({ redis, keyPrefix, namespace }) : new MemoryOneTimeStore(now));
  const rateLimits: RateLimitStore =
    stores.rateLimits ??
    (redis ? new RedisRateLimitStore({ redis, keyPrefix, name: 'consent' }) : new MemoryRateLimitStore());
  const binding = new BrowserBinding(o.cookiePath, o.secureCookies);
  return {
    launches: new LaunchTokens({ key: o.launchKey, now }),
    launchNonces: oneTime(stores.launchNonces, 'launch-nonce'),
    states: new ConsentStates(oneTime(stores.states, 'oauth-state'), binding),
    siteChoices: new SiteChoices(
      oneTime(stores.siteChoices, 'site-choice'),
      new SealedBox(o.siteChoiceKey),
      binding,
    ),
    limiter: new RateLimiter({ ...o.rateLimit, store: rateLimits, now }),
  };
}
