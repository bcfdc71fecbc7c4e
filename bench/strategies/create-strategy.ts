// Builds a strategy by name, each under its own key prefix so their keys and notices never mix.

import { NaiveTokenSource } from './naive';
import { noTokenStrategy } from './no-token';
import { SingleFlightTokenSource } from './single-flight';
import { thisProjectStrategy } from './this-project';
import type { Strategy, StrategyContext, StrategyName } from './types';
import { vendorStrategy } from './vendor-strategy';

/** The key prefix part of each strategy (RedisTokenStore forbids braces in prefixes). */
const PREFIXES: Record<StrategyName, string> = {
  'no-token': 'none:',
  naive: 'naive:',
  'single-flight': 'sf:',
  'this-project': 'p:',
  'this-project-poll-100': 'q100:',
  'this-project-poll-1000': 'q1000:',
};

export function createStrategy(name: StrategyName, base: StrategyContext): Strategy {
  const ctx = { ...base, keyPrefix: `${base.keyPrefix}${PREFIXES[name]}` };
  // The vendor strategies keep their JSON records on one node; only this project is measured on
  // a Cluster or under Sentinel.
  if (base.redis && base.redis.kind !== 'node' && !name.startsWith('this-project')) {
    throw new Error(`strategy ${name} runs on one Redis node only, not on a ${base.redis.kind}`);
  }
  switch (name) {
    case 'no-token':
      return noTokenStrategy();
    case 'naive':
      return vendorStrategy(name, ctx, (deps) => new NaiveTokenSource(deps));
    case 'single-flight':
      return vendorStrategy(name, ctx, (deps) => new SingleFlightTokenSource(deps));
    case 'this-project':
      return thisProjectStrategy(name, ctx);
    case 'this-project-poll-100':
      return thisProjectStrategy(name, ctx, 100);
    case 'this-project-poll-1000':
      return thisProjectStrategy(name, ctx, 1_000);
  }
}
