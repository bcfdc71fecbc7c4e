// The admin page's rows say what the token manager says: the family's end is its
// `status().familyExpiresAt` (familyLifetimeDays may be anything), never a fixed 365 days.

import type { TokenStatus } from 'jira-token-rotation';
import { connectionRows, displayTime } from '../../app/connection-rows';

const DAY = 86_400_000;
const STARTED = Date.UTC(2026, 0, 10, 9, 30);

function status(overrides: Partial<TokenStatus> = {}): TokenStatus {
  return {
    state: 'active',
    expiresAt: STARTED + 3_600_000,
    lastRotatedAt: STARTED,
    familyStartedAt: STARTED,
    familyExpiresAt: STARTED + 100 * DAY,
    reconnectSoon: false,
    ...overrides,
  };
}

describe('connectionRows', () => {
  test("reconnect-by is the manager's familyExpiresAt, not familyStartedAt + 365 days", () => {
    const [row] = connectionRows([{ user: { clientKey: 'c', accountId: 'a' }, status: status() }]);
    expect(row.reconnectBy).toBe('2026-04-20 09:30 UTC');
    expect(row.reconnectBy).toBe(displayTime(STARTED + 100 * DAY));
    expect(row.connectedSince).toBe('2026-01-10 09:30 UTC');
  });

  test('each row shows its own family end, sorted by account, a user listed twice once', () => {
    const rows = connectionRows([
      { user: { clientKey: 'c', accountId: 'b' }, status: status({ familyExpiresAt: STARTED + DAY }) },
      { user: { clientKey: 'c', accountId: 'a' }, status: status({ state: 'in_doubt' }) },
      { user: { clientKey: 'c', accountId: 'b' }, status: status({ familyExpiresAt: STARTED + 2 * DAY }) },
    ]);
    expect(rows.map(({ accountId, state, reconnectBy }) => ({ accountId, state, reconnectBy }))).toEqual([
      { accountId: 'a', state: 'recovering', reconnectBy: '2026-04-20 09:30 UTC' },
      { accountId: 'b', state: 'connected', reconnectBy: '2026-01-12 09:30 UTC' },
    ]);
  });
});
