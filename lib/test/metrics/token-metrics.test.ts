// The token manager's Prometheus metrics and its once-per-state-change logging, against the
// simulator: exact counts, across two managers sharing Redis as two processes would.

import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import {
  ReauthorizationRequiredError,
  RecordUnreadableError,
  UpstreamUnavailableError,
  createTokenManager,
  type TokenManager,
} from '../../src';
import { HOUR, type Harness, createHarness, leakedSecrets } from '../../../test/support/manager-harness';
import { sample } from '../../../test/support/prom-text';

const DAY = 24 * HOUR;

/** The sum of one series over several managers' registries. */
async function total(managers: TokenManager[], series: string): Promise<number> {
  const values = await Promise.all(managers.map(async (m) => sample(await m.registry.metrics(), series)));
  return values.reduce((sum: number, v) => sum + (v ?? NaN), 0);
}

describe('token metrics', () => {
  let h: Harness;
  afterEach(async () => {
    expect(leakedSecrets(h.logger, h.probe.secrets)).toEqual([]);
    await h.close();
  });

  test('two processes, one burst: one rotation, one token request, one lock wait as long as the rotation', async () => {
    h = await createHarness('redis');
    const sibling = h.sibling();
    const managers = [h.manager, sibling];
    await h.consent();
    h.expire();
    // The token endpoint answers after 300 ms (real time): the other manager surely waits for it.
    h.server.sim.setChaos({ latencyMs: 300 });
    await Promise.all([h.manager.getAccessToken(h.user), sibling.getAccessToken(h.user)]);
    expect(h.server.sim.stats()).toMatchObject({ rotations: 1, tokenRequests: 1 });
    expect(await total(managers, 'jira_token_rotations_total{outcome="rotated"}')).toBe(1);
    expect(await total(managers, 'jira_token_endpoint_duration_seconds_count{outcome="ok"}')).toBe(1);
    expect(
      await total(managers, 'jira_token_endpoint_duration_seconds_sum{outcome="ok"}'),
    ).toBeGreaterThanOrEqual(0.3);
    expect(await total(managers, 'jira_token_lock_wait_seconds_count')).toBe(1);
    expect(await total(managers, 'jira_token_lock_wait_seconds_sum')).toBeGreaterThan(0.2);
    // Each manager has a registry of its own by default: no collision, nothing shared.
    expect(h.manager.registry).not.toBe(sibling.registry);
  });

  test('a failing endpoint: two token requests in doubt, one in_doubt outcome; then one recovery', async () => {
    h = await createHarness('memory');
    await h.consent();
    h.expire();
    h.server.sim.scriptOutcomes(['server_error', 'server_error']);
    await expect(h.manager.getAccessToken(h.user)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    let text = await h.manager.registry.metrics();
    expect(sample(text, 'jira_token_endpoint_duration_seconds_count{outcome="in_doubt"}')).toBe(2);
    expect(sample(text, 'jira_token_rotations_total{outcome="in_doubt"}')).toBe(1);
    expect(sample(text, 'jira_token_rotations_total{outcome="rotated"}')).toBe(0);
    expect(await h.manager.recoverInDoubt()).toBe(1);
    text = await h.manager.registry.metrics();
    expect(sample(text, 'jira_token_rotations_total{outcome="recovered"}')).toBe(1);
    expect(sample(text, 'jira_token_rotations_total{outcome="rotated"}')).toBe(0);
    expect(sample(text, 'jira_token_endpoint_duration_seconds_count{outcome="ok"}')).toBe(1);
  });

  test('an injected registry gets the metrics; a second manager on it, or a non-registry, is refused', async () => {
    const registry = new Registry();
    h = await createHarness('memory', { registry });
    expect(h.manager.registry).toBe(registry);
    expect((await registry.getMetricsAsJSON()).map((m) => m.name).sort()).toEqual([
      'jira_api_retries_total',
      'jira_token_cache_hits_total',
      'jira_token_endpoint_duration_seconds',
      'jira_token_lock_wait_seconds',
      'jira_token_reauthorization_required_total',
      'jira_token_rotations_total',
      'jira_token_settle_write_retries_total',
      'jira_token_store_losses_total',
    ]);
    expect(() => h.sibling({ registry })).toThrow(/already been registered/);
    const base = { clientId: 'id', clientSecret: 'secret' };
    expect(() => createTokenManager({ ...base, registry: {} as Registry })).toThrow(
      new TypeError('registry must be a prom-client Registry'),
    );
  });
});

describe('chain breaks are logged once per state change', () => {
  let h: Harness;
  afterEach(async () => {
    expect(leakedSecrets(h.logger, h.probe.secrets)).toEqual([]);
    await h.close();
  });

  test('two processes, 50 requests against a dead chain: one warning, one count', async () => {
    h = await createHarness('redis');
    const sibling = h.sibling();
    await h.consent();
    h.server.sim.clock.advance(91 * DAY);
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? sibling : h.manager).getAccessToken(h.user)),
    );
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(ReauthorizationRequiredError);
    }
    expect(h.logger.events('reauthorization_required').map((e) => e.level)).toEqual(['warn']);
    expect(await total([h.manager, sibling], 'jira_token_reauthorization_required_total')).toBe(1);
    expect(h.server.sim.stats().tokenRequests).toBe(1);
  });

  test('an unreadable record: one error per record version and process, debug after', async () => {
    h = await createHarness('redis');
    // A process configured with the wrong key cannot open the records of the others.
    const misconfigured = h.sibling({ encryptionKey: randomBytes(32).toString('base64') });
    await h.consent();
    const attempt = () =>
      expect(misconfigured.getAccessToken(h.user)).rejects.toBeInstanceOf(RecordUnreadableError);
    await Promise.all(Array.from({ length: 20 }, attempt));
    for (let i = 0; i < 5; i++) await attempt();
    const levels = () => h.logger.events('record_unreadable').map((e) => e.level);
    expect(levels().filter((level) => level === 'error')).toHaveLength(1);
    expect(levels().length).toBeGreaterThan(1);
    // A new consent is a new record version, unreadable too: reported again, once.
    await h.consent();
    await attempt();
    await attempt();
    expect(levels().filter((level) => level === 'error')).toHaveLength(2);
  });

  test('recovery failing past the in-doubt deadline: one warning when it is crossed, debug after', async () => {
    h = await createHarness('memory');
    await h.consent();
    h.expire();
    h.server.sim.scriptOutcomes(Array(8).fill('server_error'));
    await expect(h.manager.getAccessToken(h.user)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(h.logger.events('in_doubt').map((e) => e.level)).toEqual(['warn']);
    // Past lease start + leeway − safety margin (9 minutes by default).
    h.server.sim.clock.advance(10 * 60_000);
    for (let i = 0; i < 3; i++) expect(await h.manager.recoverInDoubt()).toBe(0);
    expect(h.logger.events('in_doubt_past_deadline').map((e) => e.level)).toEqual(['warn', 'debug', 'debug']);
    expect(h.server.sim.stats().tokenRequests).toBe(8);
  });
});
