// `no token`: the same timed route with a middleware that does nothing. Its burst latency is the
// floor that HTTP and the load generator alone cost on this machine, with no rotation at all.

import type { Strategy } from './types';

export function noTokenStrategy(): Strategy {
  return {
    name: 'no-token',
    seed: async () => undefined,
    middleware: () => (_req, res, next) => {
      res.locals.expiresAt = 0;
      next();
    },
    ready: async () => undefined,
    idle: async () => undefined,
    stats: () => ({}),
    close: async () => undefined,
  };
}
