// consentRouter's options are checked once, when it is made: a TypeError naming the option, and
// never the value (a secret or a URL with credentials must not reach a log).

import { randomBytes } from 'node:crypto';
import { consentRouter } from '../../src/consent/consent-router';
import { CONSENT_DEFAULTS, type ConsentRouterOptions } from '../../src/consent/consent-router-options';
import { createTokenManager } from '../../src/manager/create-token-manager';
import type { TokenManager } from '../../src/manager/token-manager';

describe('consentRouter options', () => {
  let tokens: TokenManager;
  beforeAll(() => {
    tokens = createTokenManager({ clientId: 'id', clientSecret: 'secret' });
  });
  afterAll(async () => {
    await tokens.close();
  });

  const valid = (): ConsentRouterOptions => ({
    tokens,
    resolveUser: () => null,
    callbackUrl: 'https://app.example.com/jira/callback',
    secret: randomBytes(32),
  });
  const refused = (changes: Record<string, unknown>, message: RegExp) => {
    const options = { ...valid(), ...changes } as ConsentRouterOptions;
    expect(() => consentRouter(options)).toThrow(TypeError);
    expect(() => consentRouter(options)).toThrow(message);
  };

  test('the four required options are enough', () => {
    const router = consentRouter(valid());
    expect(typeof router).toBe('function');
    expect(router.length).toBe(3);
    expect(typeof router.launches.issue).toBe('function');
    expect(CONSENT_DEFAULTS).toEqual({
      keyPrefix: 'jtr:',
      rateLimit: { limit: 10, windowMs: 60_000 },
      authorizeUrl: 'https://auth.atlassian.com/authorize',
      scopes: 'read:jira-work read:jira-user read:me offline_access',
      requiredSiteScope: 'read:jira-work',
    });
  });

  test.each([
    [{ tokens: undefined }, /^tokens is required/],
    [{ tokens: { save: () => undefined } }, /^tokens is required/],
    [{ resolveUser: undefined }, /^resolveUser must be/],
    [{ callbackUrl: undefined }, /^callbackUrl is required/],
    [{ callbackUrl: '/jira/callback' }, /^callbackUrl must be an absolute http\(s\) URL/],
    [{ callbackUrl: 'ftp://app.example.com/cb' }, /^callbackUrl must be/],
    [{ callbackUrl: 'https://app.example.com/cb#x' }, /^callbackUrl must be/],
    [{ secret: undefined }, /^secret is required/],
    [{ secret: 'too short' }, /^secret is required: a string or Buffer of at least 32 bytes/],
    [{ secret: randomBytes(31) }, /^secret is required/],
    [{ authenticate: () => undefined }, /^authenticate must be an array/],
    [{ authenticate: ['x'] }, /^authenticate must be an array/],
    [{ tenantSiteUrl: 'https://x.atlassian.net' }, /^tenantSiteUrl must be/],
    [{ redis: 'redis://localhost' }, /^redis must be an ioredis client/],
    [{ keyPrefix: 3 }, /^keyPrefix must be a string/],
    [{ stores: { states: {} } }, /^stores\.states must be a OneTimeStore/],
    [{ stores: { rateLimits: { add: () => true } } }, /^stores\.rateLimits must be a RateLimitStore/],
    [{ rateLimit: { limit: 0, windowMs: 60_000 } }, /^rateLimit\.limit must be/],
    [{ rateLimit: { limit: 1.5, windowMs: 60_000 } }, /^rateLimit\.limit must be/],
    [{ rateLimit: { limit: 10, windowMs: 999 } }, /^rateLimit\.windowMs must be/],
    [{ authorizeUrl: 'auth.atlassian.com/authorize' }, /^authorizeUrl must be/],
    [{ meUrl: 'nope' }, /^meUrl must be/],
    [{ resourcesUrl: 42 }, /^resourcesUrl must be/],
    [{ scopes: 'read:jira-work read:me' }, /^scopes must include offline_access/],
    [{ scopes: ['read:jira-work', 'offline_access'] }, /^scopes must include read:me/],
    [{ scopes: 'read:me offline_access' }, /^scopes must include read:jira-work/],
    [{ scopes: '' }, /^scopes must be/],
    [{ requiredSiteScope: 'two scopes' }, /^requiredSiteScope must be one scope/],
    [{ secureCookies: 'yes' }, /^secureCookies must be a boolean/],
    [{ logger: () => undefined }, /^logger must be a pino-compatible logger/],
    [{ fetch: 'fetch' }, /^fetch must be/],
    [{ now: 0 }, /^now must be/],
  ])('%j is a TypeError naming it', (changes, message) => {
    refused(changes, message);
  });

  test('a URL option is never echoed in the error', () => {
    const secretUrl = 'https://user:hunter2@/broken';
    expect(() => consentRouter({ ...valid(), authorizeUrl: secretUrl })).toThrow(TypeError);
    try {
      consentRouter({ ...valid(), authorizeUrl: secretUrl });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});
