// A user's chain breaking is logged once per state change of the record, never once per request:
// the flood of identical warnings from the field.

import type { LogEntry } from '../../support/capture-logger';
import { HOUR, type TestApp, USER, startTestApp, stateOf } from './helpers';

const DAY = 24 * HOUR;

/** Every warn or error line the app wrote, as `event` names. */
function alarms(t: TestApp): unknown[] {
  return t.logger.entries
    .filter((e: LogEntry) => e.level === 'warn' || e.level === 'error')
    .map((e) => e.obj.event);
}

describe.each([
  ['memory', false],
  ['redis', true],
] as const)('chain break logging (%s)', (_name, redis) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({ redis });
  });
  afterEach(async () => {
    await t.close();
  });

  test('50 requests and later bursts against a dead chain: one warning; a new consent, a new break: a second', async () => {
    await t.connect(USER);
    // Start-up may warn (a Redis without persistence); only what follows counts.
    const startUp = alarms(t).length;
    const since = () => alarms(t).slice(startUp);
    // Past the 90-day inactivity expiry the refresh token is refused (invalid_grant).
    await t.advance(91 * DAY);
    const burst = () => Promise.all(Array.from({ length: 50 }, () => t.macro(USER)));
    expect((await burst()).map((p) => stateOf(p.text))).toEqual(Array(50).fill('reconnect'));
    await burst();
    await burst();
    expect(since()).toEqual(['reauthorization_required']);
    const [line] = t.logger.events('reauthorization_required');
    expect(line.obj).toMatchObject({ accountId: USER, clientKey: t.tenant.clientKey });
    expect(line.obj.refreshToken).toMatch(/^[0-9a-f]{8}$/);

    await t.connect(USER);
    expect(stateOf((await t.macro(USER)).text)).toBe('ready');
    await t.advance(91 * DAY);
    await burst();
    await burst();
    expect(since()).toEqual(['reauthorization_required', 'reauthorization_required']);
    expect((await t.stats()).invalidGrant).toBe(2);
  });
});
