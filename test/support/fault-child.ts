// An app process for the crash tests: a token manager on the shared Redis whose rotation can be
// frozen at a crash point (see crash-points.ts) so the parent SIGKILLs it there; the survivors
// run bursts, follow the simulator's clock, and report the events the parent waits for.

import IORedis from 'ioredis';
import {
  JiraTokenError,
  RedisTokenStore,
  RedisNoticeChannel,
  RedlockRefreshLock,
  type TokenManagerOptions,
  createTokenManager,
  fingerprint,
} from 'jira-token-rotation';
import { type CrashPoint, CrashingNoticeChannel, PausingStore, armTokenRequest, never } from './crash-points';
import type { CallResult, FaultCommand, FaultMessage } from './fault-protocol';
import { fetchProbe } from '../../support/fetch-probe';
import { forwardingLogger } from '../../support/forwarding-logger';
import { leakedSecrets } from '../../support/leaked-secrets';
import { MirroredClock } from '../../support/mirrored-clock';

/** The events a crash test waits on. */
const FORWARDED = ['lease_held_elsewhere', 'in_doubt', 'in_doubt_recovered', 'clock_skew'];

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`fault-child needs ${name}`);
  return value;
};

const send = (message: FaultMessage): void => void process.send!(message);

async function main(): Promise<void> {
  // SKEW_MS skews this process's own clock (the manager's `now`); SHARED_CLOCK=1 gives its store a
  // time() on the simulator's unskewed clock, the one clock every process measures its offset to.
  const skewMs = Number(process.env.SKEW_MS ?? 0);
  const world = new MirroredClock(Number(env('SIM_NOW')));
  const clock = new MirroredClock(Number(env('SIM_NOW')) + skewMs);
  const sharedTime = process.env.SHARED_CLOCK === '1' ? async () => world.now() : undefined;
  const crashAt = (process.env.CRASH_AT || undefined) as CrashPoint | undefined;
  const options = JSON.parse(process.env.MANAGER_OPTIONS ?? '{}') as Partial<TokenManagerOptions>;
  const keyPrefix = env('KEY_PREFIX');
  const logger = forwardingLogger(FORWARDED);
  const probe = fetchProbe();
  for (const secret of JSON.parse(process.env.SECRETS ?? '[]') as string[]) probe.secrets.add(secret);

  // The options the factory gives its own clients: a Redis outage is a 503, not a hang.
  const redis = new IORedis(env('REDIS_URL'), { commandTimeout: 2_000, maxRetriesPerRequest: 2 });
  redis.on('error', () => undefined);
  let proceed: (() => void) | undefined;
  const store = new PausingStore(
    new RedisTokenStore({ redis, keyPrefix, logger }),
    process.env.PAUSE_AT_LEASE === '1'
      ? () => {
          send({ type: 'paused' });
          return new Promise<void>((resolve) => (proceed = resolve));
        }
      : undefined,
    sharedTime,
  );
  const crashed = (): void => send({ type: 'crash-point', point: crashAt! });
  const freezeBeforeNotice = (): Promise<never> => {
    crashed();
    return never();
  };
  const lock = new RedlockRefreshLock({ redis, keyPrefix, lockTtlMs: options.lockTtlMs, logger });
  const notices = new CrashingNoticeChannel(
    new RedisNoticeChannel({ redis, keyPrefix, logger }),
    crashAt === 'before_notice' ? freezeBeforeNotice : undefined,
  );
  if (crashAt) armTokenRequest(probe, crashAt, crashed);

  const manager = createTokenManager({
    clientId: 'sim-client-id',
    clientSecret: 'sim-client-secret',
    tokenUrl: env('TOKEN_URL'),
    store,
    lock,
    notices,
    encryptionKey: env('ENCRYPTION_KEY'),
    fetch: probe.fetch,
    logger,
    now: clock.now,
    recoveryIntervalMs: 0,
    ...options,
  });
  const user = { clientKey: env('CLIENT_KEY'), accountId: env('ACCOUNT_ID') };

  process.on('message', (command: FaultCommand) => {
    switch (command.type) {
      case 'clock':
        world.set(command.simNow);
        return clock.set(command.simNow + skewMs);
      case 'proceed':
        return proceed?.();
      case 'sweep':
        return void manager.recoverInDoubt().then((recovered) => send({ type: 'swept', recovered }));
      case 'burst':
        return void Promise.allSettled(
          Array.from({ length: command.concurrency }, () => manager.getAccessToken(user)),
        ).then((outcomes) => {
          const results = outcomes.map((o): CallResult => {
            if (o.status === 'fulfilled') return { ok: fingerprint(o.value.accessToken) };
            const e: unknown = o.reason;
            if (!(e instanceof JiraTokenError)) return { error: String(e) };
            return { error: e.code, status: e.status, retryAfterSeconds: e.retryAfterSeconds };
          });
          send({
            type: 'done',
            results,
            stats: manager.stats(),
            leaked: leakedSecrets(logger, probe.secrets),
            clockSkewWarnings: logger.events('clock_skew').length,
          });
        });
    }
  });
  // Connected and subscribed before anything starts, so waiters wake on notices.
  await manager.ready();
  await manager.status(user);
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  process.send?.({ type: 'failed', error: String(error) });
  process.exitCode = 1;
});
