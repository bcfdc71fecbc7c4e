// InDoubtBook: the in-doubt mark a holder writes, and the commit horizon it sets for a request that
// may still reach the server (and not for answers that came back).

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
  it.each(['timeout', 'network', 'server_error'] as const)(
    '%s: the request may still commit, so no retry before now + commitHorizonMs',
    (reason) => {
      expect(book.inDoubtFor({}, rotating, reason)).toEqual({
        since: START,
        deadline: START + 540_000,
        reason,
        lastAttemptAt: NOW,
        retryNotBefore: NOW + 60_000,
      });
    },
  );

  it.each(['bad_response', 'missing_refresh_token', 'holder_died'] as const)(
    '%s: no request of ours is left on its way, so no horizon',
    (reason: InDoubtReason) => {
      expect(book.inDoubtFor({}, rotating, reason)).toEqual({
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
