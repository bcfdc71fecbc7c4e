// The checks behind resolveOptions: the nesting of the budgets, and the shapes of single values.

import type { Registry } from 'prom-client';
import { DAY_MS, INACTIVITY_EXPIRY_DAYS, type ResolvedOptions, type TokenManagerOptions } from './options';

/** A lease or lock shorter than this would be renewed (every third of it) too often to keep up. */
export const MIN_LEASE_MS = 300;

/**
 * Invariant 10: budgets nest. The lease and the lock are short because a heartbeat keeps them
 * while the holder lives; a waiter's budget covers a live holder's longest rotation, then a dead
 * holder's lease and lock running out, then one re-read.
 */
export function checkBudgets(resolved: ResolvedOptions): void {
  for (const name of ['leaseMs', 'lockTtlMs'] as const) {
    if (resolved[name] < MIN_LEASE_MS) throw new TypeError(`${name} must be at least ${MIN_LEASE_MS}`);
  }
  const longest =
    resolved.requestTimeoutMs * resolved.tokenRequestAttempts +
    Math.max(resolved.leaseMs, resolved.lockTtlMs) +
    resolved.noticeTimeoutMs;
  if (resolved.waitTimeoutMs <= longest) {
    throw new TypeError(
      'waitTimeoutMs must exceed requestTimeoutMs × tokenRequestAttempts + max(leaseMs, lockTtlMs) + noticeTimeoutMs',
    );
  }
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Duck-typed, so a Registry of another copy of prom-client is accepted too. */
export function isRegistry(value: unknown): value is Registry {
  const registry = value as Partial<Registry> | null;
  return (
    typeof registry === 'object' &&
    registry !== null &&
    typeof registry.registerMetric === 'function' &&
    typeof registry.metrics === 'function'
  );
}

export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function requireString(options: TokenManagerOptions, name: 'clientId' | 'clientSecret'): void {
  const value = options[name];
  if (typeof value !== 'string' || value.trim() === '')
    throw new TypeError(`${name} is required (a non-empty string)`);
}

export function requireUrl(value: unknown, name: string, protocols = ['https:', 'http:']): void {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(`${name} must be an absolute URL`);
  }
  if (typeof value !== 'string' || !protocols.includes(url.protocol)) {
    throw new TypeError(`${name} must be a ${protocols.join(' or ')} URL`);
  }
}

export function requireNonNegativeInteger(value: unknown, name: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer (milliseconds or a count)`);
  }
}

/** Keep-alive must act before Atlassian's inactivity expiry, and the family settings must nest. */
export function checkKeepAlive(resolved: ResolvedOptions): void {
  const after = resolved.keepAliveAfterDays;
  if (after !== false && !(isFiniteNumber(after) && after >= 0 && after < INACTIVITY_EXPIRY_DAYS)) {
    throw new TypeError(
      `keepAliveAfterDays must be false, 0 (both disable keep-alive) or a number of days below ${INACTIVITY_EXPIRY_DAYS}`,
    );
  }
  requireNonNegativeInteger(resolved.keepAliveIntervalMs, 'keepAliveIntervalMs');
  if (resolved.keepAliveIntervalMs > DAY_MS)
    throw new TypeError('keepAliveIntervalMs must be at most a day (86400000)');
  const rate = resolved.keepAliveRatePerSecond;
  if (!isFiniteNumber(rate) || rate <= 0)
    throw new TypeError('keepAliveRatePerSecond must be a positive number (rotations per second)');
  const batch = resolved.keepAliveBatchSize;
  if (!Number.isSafeInteger(batch) || batch < 1 || batch > 10_000)
    throw new TypeError('keepAliveBatchSize must be an integer from 1 to 10000');
  const lifetime = resolved.familyLifetimeDays;
  if (!isFiniteNumber(lifetime) || lifetime <= 0)
    throw new TypeError('familyLifetimeDays must be a positive number of days');
  const notice = resolved.reconnectNoticeDays;
  if (!isFiniteNumber(notice) || notice < 0 || notice >= lifetime)
    throw new TypeError('reconnectNoticeDays must be a number of days from 0 to below familyLifetimeDays');
}
