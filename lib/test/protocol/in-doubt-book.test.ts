// InDoubtBook: the in-doubt mark a holder writes, and the commit horizon it sets for a request that
// may still reach the server (a timeout, a reset, a gateway's 502 or 504), and not for answers that
// ended the exchange (another 5xx, an unusable 200).

import { silentLogger } from '../../src/logger';
import { TokenStats } from '../../src/metrics/token-stats';
import type { RotatorSettings } from '../../src/protocol/rotator-deps';
import { InDoubtBook } from '../../src/protocol/in-doubt-book';
import type { InDoubtReason, TokenRecord } from '../../src/types';

const START = 1_000_000;
const NOW = START + 10_000;
const settings = { leewayMs: 600_000, inDoubtSafetyMs: 60_000, commitHorizonMs: 60_000 } as RotatorSettings;
const book = new InDoubtBook({ now: () => NOW, settings, stats: new TokenStats(), logger: silentLogger });
const rotating = {
  state: 'rotating',
  lease: { fence: 'f', startedAt: START, until: START + 25_000 },
} as TokenRecord;

describe('InDoubtBook.inDoubtFor', () => {
  it.each([
    ['timeout', undefined],
    ['network', undefined],
    ['server_error', 502],
    ['server_error', 504],
    ['bad_response', 502],
  ] as const)(
    '%s (status %s): the request may still commit, so no retry before now + commitHorizonMs',
    (reason, status) => {
      expect(book.inDoubtFor({}, rotating, reason, status)).toEqual({
        since: START,
        deadline: START + 540_000,
        reason,
        lastAttemptAt: NOW,
        retryNotBefore: NOW + 60_000,
      });
    },
  );

  it.each([
    ['server_error', 500],
    ['server_error', 503],
    ['bad_response', 200],
    ['bad_response', undefined],
    ['missing_refresh_token', undefined],
    ['holder_died', undefined],
  ] as const)(
    '%s (status %s): the exchange is over, no request of ours is left on its way, so no horizon',
    (reason: InDoubtReason, status: number | undefined) => {
      expect(book.inDoubtFor({}, rotating, reason, status)).toEqual({
        since: START,
        deadline: START + 540_000,
        reason,
        lastAttemptAt: NOW,
      });
    },
  );

  it('a chain already in doubt keeps its first deadline and gets a new horizon, or loses the old one', () => {
    const earlier = {
      since: START - 100_000,
      deadline: START + 440_000,
      reason: 'timeout' as const,
      lastAttemptAt: START - 100_000,
      retryNotBefore: START - 40_000,
    };
    expect(book.inDoubtFor({ inDoubt: earlier }, rotating, 'network')).toEqual({
      ...earlier,
      reason: 'network',
      lastAttemptAt: NOW,
      retryNotBefore: NOW + 60_000,
    });
    const { retryNotBefore: _gone, ...withoutHorizon } = earlier;
    expect(book.inDoubtFor({ inDoubt: earlier }, rotating, 'missing_refresh_token')).toEqual({
      ...withoutHorizon,
      reason: 'missing_refresh_token',
      lastAttemptAt: NOW,
    });
  });
});
