// GET /metrics after real rotations against the simulator: exact counter and histogram values, an
// injected registry, and no user, tenant or token in any label (invariant 6).

import { Registry } from 'prom-client';
import { sample } from '../support/prom-text';
import { HOUR, type TestApp, USER, startTestApp, stateOf } from './helpers';

const DAY = 24 * HOUR;

async function metrics(t: TestApp): Promise<string> {
  return (await t.http().get('/metrics').expect(200)).text;
}

describe.each([
  ['memory', false],
  ['redis', true],
] as const)('metrics (%s)', (_name, redis) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await startTestApp({ redis });
  });
  afterEach(async () => {
    await t.close();
  });

  test('50 macros after expiry: one rotation, one token request; then cache hits only', async () => {
    await t.connect(USER);
    await t.advance(HOUR + 1);
    const pages = await Promise.all(Array.from({ length: 50 }, () => t.macro(USER)));
    expect(pages.map((p) => stateOf(p.text))).toEqual(Array(50).fill('ready'));
    expect((await t.stats()).rotations).toBe(1);

    const after = await metrics(t);
    expect(sample(after, 'jira_token_rotations_total{outcome="rotated"}')).toBe(1);
    for (const outcome of ['recovered', 'in_doubt', 'reauthorization_required', 'lost_cas'])
      expect(sample(after, `jira_token_rotations_total{outcome="${outcome}"}`)).toBe(0);
    expect(sample(after, 'jira_token_endpoint_duration_seconds_count{outcome="ok"}')).toBe(1);
    expect(sample(after, 'jira_token_endpoint_duration_seconds_count{outcome="in_doubt"}')).toBe(0);
    // One process: the other 49 joined the in-process load, none waited on the cluster lock.
    expect(sample(after, 'jira_token_lock_wait_seconds_count')).toBe(0);
    expect(sample(after, 'jira_token_reauthorization_required_total')).toBe(0);

    const hits = sample(after, 'jira_token_cache_hits_total')!;
    for (let i = 0; i < 10; i++) await t.macro(USER);
    const later = await metrics(t);
    expect(sample(later, 'jira_token_cache_hits_total')).toBe(hits + 10);
    expect(sample(later, 'jira_token_rotations_total{outcome="rotated"}')).toBe(1);

    for (const secret of [USER, t.tenant.clientKey, ...t.probe.secrets]) expect(later).not.toContain(secret);
  });
});

describe('metrics', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  test("an injected registry receives the manager's metrics, and /metrics serves it", async () => {
    const registry = new Registry();
    t = await startTestApp({ registry });
    expect(t.running.tokens.registry).toBe(registry);
    await t.connect(USER);
    await t.advance(HOUR + 1);
    await Promise.all(Array.from({ length: 5 }, () => t!.macro(USER)));
    const own = await registry.metrics();
    expect(sample(own, 'jira_token_rotations_total{outcome="rotated"}')).toBe(1);
    // The app's own default registry would add process metrics; an injected one has only these.
    expect(own).not.toContain('process_cpu_user_seconds_total');
    expect(await metrics(t)).toBe(own);
  });

  test('a dead chain: 50 requests count one reauthorization, and a new consent then a new break one more', async () => {
    t = await startTestApp();
    await t.connect(USER);
    await t.advance(91 * DAY);
    const pages = await Promise.all(Array.from({ length: 50 }, () => t!.macro(USER)));
    expect(pages.map((p) => stateOf(p.text))).toEqual(Array(50).fill('reconnect'));
    await Promise.all(Array.from({ length: 20 }, () => t!.macro(USER)));
    let text = await metrics(t);
    expect(sample(text, 'jira_token_reauthorization_required_total')).toBe(1);
    expect(sample(text, 'jira_token_rotations_total{outcome="reauthorization_required"}')).toBe(1);
    expect(sample(text, 'jira_token_endpoint_duration_seconds_count{outcome="invalid_grant"}')).toBe(1);

    await t.connect(USER);
    expect(stateOf((await t.macro(USER)).text)).toBe('ready');
    await t.advance(91 * DAY);
    await Promise.all(Array.from({ length: 50 }, () => t!.macro(USER)));
    text = await metrics(t);
    expect(sample(text, 'jira_token_reauthorization_required_total')).toBe(2);
  });
});
