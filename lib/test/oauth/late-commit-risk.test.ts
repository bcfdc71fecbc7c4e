// Which failed token requests may still commit at the server (and so wait for the commit horizon),
// and which the holder may send again at once.

import { mayCommitLate, retriableAtOnce } from '../../src/oauth/late-commit-risk';
import type { RefreshOutcome } from '../../src/oauth/oauth-client';

describe('mayCommitLate', () => {
  it.each([
    ['timeout', undefined],
    ['network', undefined],
    ['server_error', 502],
    ['server_error', 504],
    ['bad_response', 502],
    ['bad_response', 504],
  ] as const)('%s (status %s): may still reach the server', (reason, status) => {
    expect(mayCommitLate(reason, status)).toBe(true);
  });

  it.each([
    ['server_error', 500],
    ['server_error', 501],
    ['server_error', 503],
    ['server_error', 599],
    ['bad_response', 200],
    ['bad_response', undefined],
    ['missing_refresh_token', 200],
    ['holder_died', undefined],
  ] as const)('%s (status %s): the exchange is over', (reason, status) => {
    expect(mayCommitLate(reason, status)).toBe(false);
  });
});

describe('retriableAtOnce', () => {
  it.each<[string, RefreshOutcome]>([
    ['not_sent', { kind: 'not_sent', error: 'ECONNREFUSED' }],
    ['a 500', { kind: 'in_doubt', reason: 'server_error', status: 500 }],
    ['a 503', { kind: 'in_doubt', reason: 'server_error', status: 503 }],
  ])('%s: sent again at once', (_, outcome) => {
    expect(retriableAtOnce(outcome)).toBe(true);
  });

  it.each<[string, RefreshOutcome]>([
    ['a 502', { kind: 'in_doubt', reason: 'server_error', status: 502 }],
    ['a 504', { kind: 'in_doubt', reason: 'server_error', status: 504 }],
    ['a timeout', { kind: 'in_doubt', reason: 'timeout' }],
    ['a reset', { kind: 'in_doubt', reason: 'network' }],
    ['an unreadable 200', { kind: 'in_doubt', reason: 'bad_response', status: 200 }],
    ['an oversized 500', { kind: 'in_doubt', reason: 'bad_response', status: 500 }],
    ['ok', { kind: 'ok', tokens: { accessToken: 'a', expiresInSeconds: 3600 } }],
    ['invalid_grant', { kind: 'invalid_grant' }],
    ['invalid_client', { kind: 'invalid_client' }],
    ['a 429', { kind: 'not_rotated', status: 429 }],
  ])('%s: not sent again at once', (_, outcome) => {
    expect(retriableAtOnce(outcome)).toBe(false);
  });
});
