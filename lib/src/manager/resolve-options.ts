// Every option of the manager checked once, at creation, with the defaults applied.

import type { Logger } from '../logger';
import { assertRedisInput } from '../redis/redis-input';
import { checkReplicaAcks } from '../redis/replica-acks';
import {
  checkBudgets,
  checkKeepAlive,
  definedOnly,
  isRegistry,
  requireNonNegativeInteger,
  requireString,
  requireUrl,
} from './option-checks';
import { DEFAULTS, type ResolvedOptions, type TokenManagerOptions } from './options';

/**
 * Applies defaults and checks every option.
 * @throws TypeError naming the option that is missing or wrong.
 */
export function resolveOptions(options: TokenManagerOptions, fallbackLogger: Logger): ResolvedOptions {
  if (!options || typeof options !== 'object')
    throw new TypeError('createTokenManager(options): options must be an object');
  requireString(options, 'clientId');
  requireString(options, 'clientSecret');
  const resolved: ResolvedOptions = {
    ...DEFAULTS,
    ...definedOnly(options),
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    logger: options.logger ?? fallbackLogger,
    fetch: options.fetch ?? globalThis.fetch,
    now: options.now ?? Date.now,
  };
  for (const name of ['tokenUrl', 'apiBaseUrl'] as const) requireUrl(resolved[name], name);
  if (resolved.tokenRequestEncoding !== 'json' && resolved.tokenRequestEncoding !== 'form') {
    throw new TypeError("tokenRequestEncoding must be 'json' or 'form'");
  }
  for (const name of [
    'expiryMarginMs',
    'refreshAheadMs',
    'requestTimeoutMs',
    'apiTimeoutMs',
    'apiMaxRetries',
    'apiRetryMaxDelayMs',
    'leaseMs',
    'lockTtlMs',
    'waitTimeoutMs',
    'noticeTimeoutMs',
    'leewayMs',
    'inDoubtSafetyMs',
    'commitHorizonMs',
    'recoveryIntervalMs',
    'inDoubtRetryMs',
    'clockSyncIntervalMs',
    'clockSkewWarningMs',
  ] as const) {
    requireNonNegativeInteger(resolved[name], name);
  }
  requireNonNegativeInteger(resolved.tokenRequestAttempts, 'tokenRequestAttempts');
  if (resolved.tokenRequestAttempts < 1) throw new TypeError('tokenRequestAttempts must be at least 1');
  checkBudgets(resolved);
  if (resolved.inDoubtSafetyMs >= resolved.leewayMs)
    throw new TypeError('inDoubtSafetyMs must be less than leewayMs');
  // The retry after the horizon must still come before the in-doubt deadline, with a lease to spare.
  if (resolved.leaseMs + resolved.commitHorizonMs >= resolved.leewayMs - resolved.inDoubtSafetyMs)
    throw new TypeError('commitHorizonMs must be below leewayMs − inDoubtSafetyMs − leaseMs');
  checkKeepAlive(resolved);
  checkReplicaAcks(resolved.replicasToAck, resolved.replicaAckTimeoutMs);
  if (typeof resolved.keyPrefix !== 'string') throw new TypeError('keyPrefix must be a string');
  if (typeof resolved.rideThroughFailures !== 'boolean')
    throw new TypeError('rideThroughFailures must be a boolean');
  if (typeof resolved.fetch !== 'function')
    throw new TypeError('fetch must be a function (Node 20 has a global one)');
  if (typeof resolved.now !== 'function')
    throw new TypeError('now must be a function returning epoch milliseconds');
  if (options.redis !== undefined) assertRedisInput(options.redis);
  if (options.registry !== undefined && !isRegistry(options.registry)) {
    throw new TypeError('registry must be a prom-client Registry');
  }
  return resolved;
}
