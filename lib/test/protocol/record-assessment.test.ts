// assessRecord: what a process does with a record it just read, for every state and token condition.

import {
  type Assessment,
  assessRecord,
  effectiveMargin,
  isFresh,
} from '../../src/protocol/record-assessment';
import type { TokenRecord, TokenSecrets, TokenState } from '../../src/types';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;
const MARGIN = 60_000;
const secrets: TokenSecrets = { accessToken: 'at-1', refreshToken: 'rt-1' };

/** A record issued `ageMs` ago with a one-hour access token. */
function record(state: TokenState, ageMs: number, extra: Partial<TokenRecord> = {}): TokenRecord {
  const issued = NOW - ageMs;
  return {
    generation: 'gen-1',
    version: 3,
    state,
    expiresAt: issued + HOUR,
    lastRotatedAt: issued,
    familyStartedAt: issued - 10 * HOUR,
    site: { cloudId: 'cloud-1', url: 'https://acme.atlassian.net' },
    ciphertext: 'v1.opaque',
    ...extra,
  };
}

const liveLease = { fence: 'f1', startedAt: NOW - 1_000, until: NOW + 20_000 };
const expiredLease = { fence: 'f1', startedAt: NOW - 30_000, until: NOW - 5_000 };
const inDoubt = { since: NOW - 60_000, deadline: NOW + 480_000, reason: 'timeout' as const };

/** The three token conditions: fresh, expired (within the margin counts), and rejected by Jira. */
const conditions = {
  fresh: { ageMs: 10 * 60_000, rejected: undefined },
  expired: { ageMs: HOUR + 1, rejected: undefined },
  rejected: { ageMs: 10 * 60_000, rejected: 'at-1' },
} as const;

type Condition = keyof typeof conditions;

function assess(r: TokenRecord, condition: Condition): Assessment {
  return assessRecord({
    record: r,
    secrets,
    rejected: conditions[condition].rejected,
    now: NOW,
    expiryMarginMs: MARGIN,
  });
}

describe('assessRecord', () => {
  const table: Array<[string, (ageMs: number) => TokenRecord, Record<Condition, Assessment>]> = [
    [
      'active',
      (age) => record('active', age),
      {
        fresh: { action: 'use', recover: false, refreshAhead: false },
        expired: { action: 'refresh' },
        rejected: { action: 'refresh' },
      },
    ],
    [
      'rotating with a live lease',
      (age) => record('rotating', age, { lease: liveLease }),
      {
        fresh: { action: 'use', recover: false, refreshAhead: false },
        expired: { action: 'wait' },
        rejected: { action: 'wait' },
      },
    ],
    [
      'rotating with an expired lease (holder died)',
      (age) => record('rotating', age, { lease: expiredLease }),
      {
        fresh: { action: 'use', recover: true, refreshAhead: false },
        expired: { action: 'recover' },
        rejected: { action: 'recover' },
      },
    ],
    [
      'rotating without a lease',
      (age) => record('rotating', age),
      {
        fresh: { action: 'use', recover: true, refreshAhead: false },
        expired: { action: 'recover' },
        rejected: { action: 'recover' },
      },
    ],
    [
      'in_doubt',
      (age) => record('in_doubt', age, { inDoubt }),
      {
        fresh: { action: 'use', recover: true, refreshAhead: false },
        expired: { action: 'recover' },
        rejected: { action: 'recover' },
      },
    ],
    [
      'reauthorization_required',
      (age) => record('reauthorization_required', age),
      {
        fresh: { action: 'reauthorize' },
        expired: { action: 'reauthorize' },
        rejected: { action: 'reauthorize' },
      },
    ],
  ];

  describe.each(table)('%s', (_, make, expected) => {
    it.each(Object.keys(conditions) as Condition[])('%s', (condition) => {
      expect(assess(make(conditions[condition].ageMs), condition)).toEqual(expected[condition]);
    });
  });

  it('reauthorization_required is final even when secrets are passed', () => {
    expect(
      assessRecord({
        record: record('reauthorization_required', 0),
        secrets,
        now: NOW,
        expiryMarginMs: MARGIN,
      }),
    ).toEqual({
      action: 'reauthorize',
    });
  });

  it('never uses a record it could not open (no secrets)', () => {
    for (const state of ['active', 'rotating', 'in_doubt'] as const) {
      expect(assessRecord({ record: record(state, 0), now: NOW, expiryMarginMs: MARGIN })).toEqual({
        action: 'reauthorize',
      });
    }
  });

  it('uses the token when the rejected one is an older token', () => {
    const r = record('active', 60_000);
    expect(assessRecord({ record: r, secrets, rejected: 'at-0', now: NOW, expiryMarginMs: MARGIN })).toEqual({
      action: 'use',
      recover: false,
      refreshAhead: false,
    });
  });

  it('counts a lease ending exactly now as expired', () => {
    const r = record('rotating', HOUR + 1, { lease: { ...liveLease, until: NOW } });
    expect(assess(r, 'expired')).toEqual({ action: 'recover' });
    expect(
      assess(record('rotating', HOUR + 1, { lease: { ...liveLease, until: NOW + 1 } }), 'expired'),
    ).toEqual({
      action: 'wait',
    });
  });

  it('refreshes within the margin, not only after expiry', () => {
    const at = (ageMs: number) =>
      assessRecord({ record: record('active', ageMs), secrets, now: NOW, expiryMarginMs: MARGIN });
    expect(at(HOUR - MARGIN - 1)).toEqual({ action: 'use', recover: false, refreshAhead: false });
    expect(at(HOUR - MARGIN)).toEqual({ action: 'refresh' });
    expect(at(HOUR - 1)).toEqual({ action: 'refresh' });
  });
});

describe('effectiveMargin', () => {
  const lifetime = (ms: number) => ({ lastRotatedAt: NOW, expiresAt: NOW + ms });

  it('caps the margin at a fifth of the lifetime: 60 s on a 100 s token is 20 s', () => {
    expect(effectiveMargin(lifetime(100_000), 60_000)).toBe(20_000);
  });

  it('keeps the configured margin when it is below a fifth of the lifetime', () => {
    expect(effectiveMargin(lifetime(HOUR), 60_000)).toBe(60_000);
    expect(effectiveMargin(lifetime(300_000), 60_000)).toBe(60_000);
  });

  it('is zero for a zero margin or a record that expired before it was issued', () => {
    expect(effectiveMargin(lifetime(HOUR), 0)).toBe(0);
    expect(effectiveMargin(lifetime(-1_000), 60_000)).toBe(0);
  });

  it('makes a 100 s token fresh until 20 s before it expires', () => {
    const r = lifetime(100_000);
    expect(isFresh(r, NOW + 79_999, 60_000)).toBe(true);
    expect(isFresh(r, NOW + 80_000, 60_000)).toBe(false);
  });

  it('applies to assessRecord: a 100 s token is used at 79 s and refreshed at 80 s', () => {
    const r = record('active', 0, { lastRotatedAt: NOW, expiresAt: NOW + 100_000 });
    const at = (now: number) => assessRecord({ record: r, secrets, now, expiryMarginMs: 60_000 });
    expect(at(NOW + 79_000)).toEqual({ action: 'use', recover: false, refreshAhead: false });
    expect(at(NOW + 80_000)).toEqual({ action: 'refresh' });
  });
});

describe('pacing retries of an in-doubt chain', () => {
  const NOW = 1_000_000;
  const inDoubtRecord = (lastAttemptAt?: number): TokenRecord => ({
    generation: 'g',
    version: 3,
    state: 'in_doubt',
    inDoubt: { since: NOW - 10_000, deadline: NOW + 500_000, reason: 'server_error', lastAttemptAt },
    expiresAt: NOW - 1,
    lastRotatedAt: NOW - 3_600_000,
    familyStartedAt: NOW - 3_600_000,
    ciphertext: 'c',
  });
  const secrets = { accessToken: 'at', refreshToken: 'rt' };
  const assess = (lastAttemptAt?: number) =>
    assessRecord({
      record: inDoubtRecord(lastAttemptAt),
      secrets,
      now: NOW,
      expiryMarginMs: 60_000,
      inDoubtRetryMs: 5_000,
    });

  it('backs off while the last attempt is younger than inDoubtRetryMs', () => {
    expect(assess(NOW - 1_000)).toEqual({ action: 'backoff', retryAfterMs: 4_000 });
  });

  it('recovers once inDoubtRetryMs has passed, or when no attempt was recorded', () => {
    expect(assess(NOW - 5_000)).toEqual({ action: 'recover' });
    expect(assess(undefined)).toEqual({ action: 'recover' });
  });

  const assessWithin = (waitBudgetMs: number) =>
    assessRecord({
      record: inDoubtRecord(NOW - 1_000),
      secrets,
      now: NOW,
      expiryMarginMs: 60_000,
      inDoubtRetryMs: 5_000,
      waitBudgetMs,
    });

  it('a request whose wait budget covers the rest of the pacing rides through the backoff', () => {
    expect(assessWithin(30_000)).toEqual({ action: 'backoff', retryAfterMs: 4_000, rideThrough: true });
    expect(assessWithin(4_000)).toEqual({ action: 'backoff', retryAfterMs: 4_000, rideThrough: true });
  });

  it('a request whose wait budget ends first backs off at once', () => {
    expect(assessWithin(3_999)).toEqual({ action: 'backoff', retryAfterMs: 4_000 });
    expect(assessWithin(0)).toEqual({ action: 'backoff', retryAfterMs: 4_000 });
  });
});

describe('the commit horizon of an in-doubt chain (inDoubt.retryNotBefore)', () => {
  const HORIZON = NOW + 48_000;
  const mark = { ...inDoubt, lastAttemptAt: NOW - 12_000, retryNotBefore: HORIZON };
  const assessAt = (now: number, condition: keyof typeof conditions) =>
    assessRecord({
      record: record('in_doubt', conditions[condition].ageMs + (now - NOW), { inDoubt: mark }),
      secrets,
      rejected: conditions[condition].rejected,
      now,
      expiryMarginMs: MARGIN,
      refreshAheadMs: 300_000,
      inDoubtRetryMs: 5_000,
    });

  it('before it, a usable access token is served and nothing recovers in the background', () => {
    expect(assessAt(NOW, 'fresh')).toEqual({ action: 'use', recover: false, refreshAhead: false });
    expect(assessAt(HORIZON - 1, 'fresh')).toEqual({ action: 'use', recover: false, refreshAhead: false });
  });

  it.each(['expired', 'rejected'] as const)(
    'before it, an %s token backs off until the horizon, marked as the commit horizon',
    (condition) => {
      expect(assessAt(NOW, condition)).toEqual({
        action: 'backoff',
        retryAfterMs: 48_000,
        commitHorizon: true,
      });
      expect(assessAt(HORIZON - 1, condition)).toEqual({
        action: 'backoff',
        retryAfterMs: 1,
        commitHorizon: true,
      });
    },
  );

  it('at the horizon, the chain is recovered as before: in the background, or by the request', () => {
    expect(assessAt(HORIZON, 'fresh')).toEqual({ action: 'use', recover: true, refreshAhead: false });
    expect(assessAt(HORIZON, 'expired')).toEqual({ action: 'recover' });
    expect(assessAt(HORIZON, 'rejected')).toEqual({ action: 'recover' });
  });

  it('a request rides through the horizon only when it ends inside its wait budget', () => {
    const within = (waitBudgetMs: number) =>
      assessRecord({
        record: record('in_doubt', conditions.expired.ageMs, { inDoubt: mark }),
        secrets,
        now: NOW,
        expiryMarginMs: MARGIN,
        inDoubtRetryMs: 5_000,
        waitBudgetMs,
      });
    expect(within(30_000)).toEqual({ action: 'backoff', retryAfterMs: 48_000, commitHorizon: true });
    expect(within(48_000)).toEqual({
      action: 'backoff',
      retryAfterMs: 48_000,
      commitHorizon: true,
      rideThrough: true,
    });
  });

  it('a horizon already past leaves the inDoubtRetryMs pacing in charge', () => {
    const paced = { ...inDoubt, lastAttemptAt: NOW - 1_000, retryNotBefore: NOW - 1_000 };
    const assessment = assessRecord({
      record: record('in_doubt', conditions.expired.ageMs, { inDoubt: paced }),
      secrets,
      now: NOW,
      expiryMarginMs: MARGIN,
      inDoubtRetryMs: 5_000,
    });
    expect(assessment).toEqual({ action: 'backoff', retryAfterMs: 4_000 });
  });

  it('the rotating and reauthorization states ignore it', () => {
    const rotating = record('rotating', conditions.expired.ageMs, { lease: liveLease, inDoubt: mark });
    expect(assessRecord({ record: rotating, secrets, now: NOW, expiryMarginMs: MARGIN })).toEqual({
      action: 'wait',
    });
    const dead = record('reauthorization_required', 0, { inDoubt: mark });
    expect(assessRecord({ record: dead, now: NOW, expiryMarginMs: MARGIN })).toEqual({
      action: 'reauthorize',
    });
  });
});
