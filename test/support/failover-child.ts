// An app process for the failover tests: a token manager on a Redis Cluster or a Sentinel group,
// with a client of its own built the way an app would, that keeps every user busy (a few
// concurrent getAccessToken calls per user, again and again) while the parent kills or freezes a
// Redis node, and tallies per user what each call ended with and when.

import IORedis, { Cluster, type Redis } from 'ioredis';
import {
  JiraTokenError,
  type TokenManagerOptions,
  type UserRef,
  createTokenManager,
} from 'jira-token-rotation';
import type { FailoverCommand, FailoverMessage, FailoverRedis, UserTally } from './failover-protocol';
import { fetchProbe } from '../../support/fetch-probe';
import { forwardingLogger } from '../../support/forwarding-logger';
import { leakedSecrets } from '../../support/leaked-secrets';
import { MirroredClock } from '../../support/mirrored-clock';
import { failFastCluster, failFastSentinel } from '../../support/redis-failover-clients';

/** Pause between two rounds of one user's calls: keeps 2 cores usable, sets the measuring grain. */
const ROUND_PAUSE_MS = 20;

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`failover-child needs ${name}`);
  return value;
};

const send = (message: FailoverMessage): void => void process.send!(message);

function connect(target: FailoverRedis): Redis | Cluster {
  if ('cluster' in target) {
    const cluster = new Cluster(target.cluster, failFastCluster());
    cluster.on('error', () => undefined);
    return cluster;
  }
  const client = new IORedis(failFastSentinel(target.sentinels, target.name, target.commandTimeoutMs));
  client.on('error', () => undefined);
  return client;
}

async function main(): Promise<void> {
  const clock = new MirroredClock(Number(env('SIM_NOW')));
  const users = JSON.parse(env('USERS')) as UserRef[];
  const options = JSON.parse(process.env.MANAGER_OPTIONS ?? '{}') as Partial<TokenManagerOptions>;
  const logger = forwardingLogger([]);
  const probe = fetchProbe();
  const redis = connect(JSON.parse(env('REDIS')) as FailoverRedis);
  const manager = createTokenManager({
    clientId: 'sim-client-id',
    clientSecret: 'sim-client-secret',
    tokenUrl: env('TOKEN_URL'),
    redis,
    keyPrefix: env('KEY_PREFIX'),
    encryptionKey: env('ENCRYPTION_KEY'),
    fetch: probe.fetch,
    logger,
    now: clock.now,
    recoveryIntervalMs: 0,
    ...options,
  });

  const tallies: UserTally[] = users.map((user) => ({ user, ok: 0, errors: {} }));
  /** Per user: whether a call that started after the mark has succeeded. */
  let servedSinceMark: boolean[] | undefined;
  let stopping = false;

  const round = async (index: number, concurrency: number): Promise<void> => {
    const tally = tallies[index];
    const markedBefore = servedSinceMark !== undefined;
    const outcomes = await Promise.allSettled(
      Array.from({ length: concurrency }, () => manager.getAccessToken(tally.user)),
    );
    for (const outcome of outcomes) {
      const endedAt = Date.now();
      if (outcome.status === 'fulfilled') {
        probe.secrets.add(outcome.value.accessToken);
        tally.ok += 1;
        if (tally.lastErrorAt !== undefined && tally.servedAgainAt === undefined)
          tally.servedAgainAt = endedAt;
        continue;
      }
      const e: unknown = outcome.reason;
      const code = e instanceof JiraTokenError ? e.code : String(e);
      tally.errors[code] = (tally.errors[code] ?? 0) + 1;
      tally.lastErrorAt = endedAt;
      tally.servedAgainAt = undefined;
    }
    // Only a round that started after the mark proves the user is served on the new topology.
    if (
      markedBefore &&
      servedSinceMark &&
      !servedSinceMark[index] &&
      outcomes.every((o) => o.status === 'fulfilled')
    ) {
      servedSinceMark[index] = true;
      if (servedSinceMark.every(Boolean)) send({ type: 'caught-up' });
    }
  };

  const load = async (concurrency: number): Promise<void> => {
    await Promise.all(
      users.map(async (_, index) => {
        while (!stopping) {
          await round(index, concurrency);
          await new Promise((resolve) => setTimeout(resolve, ROUND_PAUSE_MS));
        }
      }),
    );
  };

  let running: Promise<void> | undefined;
  process.on('message', (command: FailoverCommand) => {
    switch (command.type) {
      case 'load':
        running = load(command.concurrency);
        return;
      case 'mark':
        servedSinceMark = users.map(() => false);
        return;
      case 'stop':
        stopping = true;
        // Idle first: a rotated pair still held in memory (its write unconfirmed, or not yet
        // acknowledged by a replica) is part of what this process has to finish.
        return void (running ?? Promise.resolve())
          .then(() => manager.whenIdle())
          .then(() =>
            send({
              type: 'stopped',
              tallies,
              stats: manager.stats(),
              leaked: leakedSecrets(logger, probe.secrets),
            }),
          );
    }
  });
  // Connected and subscribed before anything starts, so waiters wake on notices.
  await manager.ready();
  for (const user of users) await manager.status(user);
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  process.send?.({ type: 'failed', error: String(error) });
  process.exitCode = 1;
});
