// Defaults and validation of SimulatorOptions: a misconfigured simulator fails at creation, not mid-test.

import { DEFAULT_ACCOUNTS, DEFAULT_SITES } from './fixtures';
import type { SimAccount, SimSite, SimulatorOptions } from './types';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Options with every default applied. */
export interface ResolvedOptions {
  clientId: string;
  clientSecret: string;
  accessTokenTtlSeconds: number;
  leewayMs: number;
  inactivityMs: number;
  absoluteLifetimeMs: number;
  startTime: number;
  accounts: readonly SimAccount[];
  sites: readonly SimSite[];
  issuesPerSite: number;
  seed: number;
}

/** Applies defaults and throws `RangeError` on anything inconsistent. */
export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  const sites = (options.sites ?? DEFAULT_SITES).map((s) => ({ ...s, scopes: [...s.scopes] }));
  const accounts = (options.accounts ?? DEFAULT_ACCOUNTS).map((a) => ({ ...a, siteIds: [...a.siteIds] }));
  const resolved: ResolvedOptions = {
    clientId: nonEmpty(options.clientId ?? 'sim-client-id', 'clientId'),
    clientSecret: nonEmpty(options.clientSecret ?? 'sim-client-secret', 'clientSecret'),
    accessTokenTtlSeconds: positiveInteger(options.accessTokenTtlSeconds ?? 3600, 'accessTokenTtlSeconds'),
    leewayMs: nonNegative(options.leewayMs ?? 10 * 60 * 1000, 'leewayMs'),
    inactivityMs: nonNegative(options.inactivityMs ?? 90 * DAY_MS, 'inactivityMs'),
    absoluteLifetimeMs: nonNegative(options.absoluteLifetimeMs ?? 365 * DAY_MS, 'absoluteLifetimeMs'),
    startTime: finite(options.startTime ?? Date.now(), 'startTime'),
    accounts,
    sites,
    issuesPerSite: nonNegativeInteger(options.issuesPerSite ?? 25, 'issuesPerSite'),
    seed: finite(options.seed ?? 1, 'seed'),
  };
  checkFixtures(accounts, sites);
  return resolved;
}

function checkFixtures(accounts: readonly SimAccount[], sites: readonly SimSite[]): void {
  if (accounts.length === 0) throw new RangeError('At least one account is needed');
  const siteIds = new Set(sites.map((s) => nonEmpty(s.id, 'site id')));
  if (siteIds.size !== sites.length) throw new RangeError('Site ids must be unique');
  for (const site of sites) {
    const url = new URL(site.url);
    if (url.origin !== site.url) throw new RangeError(`Site url must be an origin: ${site.url}`);
  }
  const accountIds = new Set(accounts.map((a) => nonEmpty(a.accountId, 'accountId')));
  if (accountIds.size !== accounts.length) throw new RangeError('Account ids must be unique');
  for (const account of accounts) {
    for (const id of account.siteIds) {
      if (!siteIds.has(id)) throw new RangeError(`Account ${account.accountId} names unknown site ${id}`);
    }
  }
}

function finite(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new RangeError(`${name} must be a finite number`);
  return value;
}

function nonNegative(value: number, name: string): number {
  if (finite(value, name) < 0) throw new RangeError(`${name} must not be negative`);
  return value;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(nonNegative(value, name))) throw new RangeError(`${name} must be an integer`);
  return value;
}

function positiveInteger(value: number, name: string): number {
  if (nonNegativeInteger(value, name) === 0) throw new RangeError(`${name} must be positive`);
  return value;
}

function nonEmpty(value: string, name: string): string {
  if (typeof value !== 'string' || value === '') throw new RangeError(`${name} must be a non-empty string`);
  return value;
}
