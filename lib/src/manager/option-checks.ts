// The small checks every option goes through: each throws a TypeError naming the option.

import type { Registry } from 'prom-client';

/** Whether `value` is a finite number. */
export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Whether `value` is a prom-client Registry. Duck-typed, so a Registry of another copy of prom-client is accepted too. */
export function isRegistry(value: unknown): value is Registry {
  const registry = value as Partial<Registry> | null;
  return (
    typeof registry === 'object' &&
    registry !== null &&
    typeof registry.registerMetric === 'function' &&
    typeof registry.metrics === 'function'
  );
}

/** `value` without its undefined fields, so they do not hide defaults. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A required, non-blank string. */
export function requireString(
  options: { clientId?: unknown; clientSecret?: unknown },
  name: 'clientId' | 'clientSecret',
): void {
  const value = options[name];
  if (typeof value !== 'string' || value.trim() === '')
    throw new TypeError(`${name} is required (a non-empty string)`);
}

/** An absolute URL of one of `protocols`. */
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

/** A safe integer ≥ 0: milliseconds or a count. */
export function requireNonNegativeInteger(value: unknown, name: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer (milliseconds or a count)`);
  }
}
