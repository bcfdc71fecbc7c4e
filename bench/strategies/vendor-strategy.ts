// Wraps a vendor token source (naive or single-flight) as a Strategy: its own Redis client, the
// JSON store, and a middleware that answers failures the way vendor code usually does.

import IORedis from 'ioredis';
import type { UserRef } from 'jira-token-rotation';
import type { TokenResponseBody } from '../../sim';
import { JsonTokenStore, type VendorTokens } from './json-token-store';
import type { ResolveUser, Strategy, StrategyContext, StrategyName } from './types';
import { type VendorRefreshDeps, VendorRefreshError } from './vendor-refresh';

export interface VendorTokenSource {
  refreshes: number;
  getAccessToken(user: UserRef): Promise<VendorTokens>;
}

export function vendorStrategy(
  name: StrategyName,
  ctx: StrategyContext,
  makeSource: (deps: VendorRefreshDeps) => VendorTokenSource,
): Strategy {
  const redis = new IORedis(ctx.redisUrl, { connectionName: `bench-${name}` });
  const store = new JsonTokenStore(redis, ctx.keyPrefix);
  const source = makeSource({
    store,
    tokenUrl: ctx.tokenUrl,
    clientId: ctx.clientId,
    clientSecret: ctx.clientSecret,
    now: ctx.now,
  });
  let failures = 0;
  return {
    name,
    async seed(user: UserRef, tokens: TokenResponseBody) {
      await store.set(user, {
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token!,
        expiresAt: ctx.now() + tokens.expires_in * 1000,
      });
    },
    middleware(resolveUser: ResolveUser) {
      return (req, res, next) => {
        const user = resolveUser(req);
        if (!user) return next();
        source.getAccessToken(user).then(
          (tokens) => {
            res.locals.expiresAt = tokens.expiresAt;
            next();
          },
          (error: unknown) => {
            failures += 1;
            const status = error instanceof VendorRefreshError && error.status < 500 ? 401 : 502;
            const code = error instanceof VendorRefreshError ? error.code : 'error';
            res.status(status).json({ error: code });
          },
        );
      };
    },
    async ready() {
      await redis.ping();
    },
    async idle() {},
    stats: () => ({ refreshes: source.refreshes, failures }),
    async close() {
      await redis.quit();
    },
  };
}
