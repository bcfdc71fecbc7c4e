// A chaos worker: one app process with the token middleware on a tiny Express app, sharing Redis
// with the others. Each round it sends its own app a burst of requests and sorts the answers: a
// token the simulator accepts, a 503 with Retry-After, or anything else (a failure).

import type { AddressInfo } from 'node:net';
import express from 'express';
import Redis from 'ioredis';
import { type TokenManagerOptions, createTokenManager } from 'jira-token-rotation';
import type { ChaosCommand, ChaosMessage, OtherAnswer } from './chaos-protocol';
import { askApp } from './app-answers';
import { serveUntilValid } from './serve-until-valid';
import { fetchProbe, holdNextAnswer } from '../support/fetch-probe';
import { forwardingLogger } from '../support/forwarding-logger';
import { leakedSecrets } from '../support/leaked-secrets';
import { MirroredClock } from '../support/mirrored-clock';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`chaos-child needs ${name}`);
  return value;
};

const send = (message: ChaosMessage): void => void process.send!(message);

// Counted, not fatal: the figures say whether anything escaped.
let unhandled = 0;
process.on('unhandledRejection', () => void (unhandled += 1));
process.on('uncaughtException', () => void (unhandled += 1));

async function main(): Promise<void> {
  const clock = new MirroredClock(Number(env('SIM_NOW')));
  const apiBaseUrl = env('API_BASE_URL');
  const clientKey = env('CLIENT_KEY');
  const logger = forwardingLogger(
    process.env.FORWARD_EVENTS?.split(',') ?? ['in_doubt_recovered', 'reauthorization_required'],
  );
  const probe = fetchProbe();
  const redis = redisOption();
  const manager = createTokenManager({
    clientId: 'sim-client-id',
    clientSecret: 'sim-client-secret',
    tokenUrl: env('TOKEN_URL'),
    apiBaseUrl,
    redis,
    keyPrefix: env('KEY_PREFIX'),
    encryptionKey: env('ENCRYPTION_KEY'),
    fetch: probe.fetch,
    logger,
    now: clock.now,
    // The worker's clock is the simulator's, which Redis TIME knows nothing of: no offset to it.
    clockSyncIntervalMs: 0,
    ...(JSON.parse(process.env.MANAGER_OPTIONS ?? '{}') as Partial<TokenManagerOptions>),
  });

  const app = express();
  app.get(
    '/jira/:accountId',
    manager.middleware({ resolveUser: (req) => ({ clientKey, accountId: req.params.accountId }) }),
    async (req, res, next) => {
      try {
        // The simulator judges the token itself: no retry on a 401, which would hide a bad one.
        const { accessToken, cloudId } = req.jira!;
        const answer = await fetch(`${apiBaseUrl}/ex/jira/${cloudId}/rest/api/3/myself`, {
          headers: { authorization: `Bearer ${accessToken}` },
        });
        await answer.body?.cancel();
        res.status(answer.ok ? 200 : 502).json({ valid: answer.ok });
      } catch (error) {
        next(error);
      }
    },
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function round(accountIds: string[]): Promise<Extract<ChaosMessage, { type: 'round-done' }>> {
    const result = { type: 'round-done' as const, ok: 0, served503: 0, codes: {} as Record<string, number> };
    const other: OtherAnswer[] = [];
    await Promise.all(
      accountIds.map(async (accountId) => {
        const answer = await askApp(`${base}/jira/${encodeURIComponent(accountId)}`);
        if (answer.kind === 'ok') result.ok += 1;
        else if (answer.kind === '503') {
          result.served503 += 1;
          result.codes[answer.code] = (result.codes[answer.code] ?? 0) + 1;
        } else other.push(answer.answer);
      }),
    );
    return { ...result, other };
  }

  let held: { release(): void } | undefined;
  process.on('message', (command: ChaosCommand) => {
    switch (command.type) {
      case 'clock':
        return clock.set(command.simNow);
      case 'round':
        clock.set(command.simNow);
        return void round(command.accountIds).then(send);
      case 'serve':
        return void serveUntilValid(base, command, () => send({ type: 'first-ok', id: command.id })).then(
          send,
        );
      case 'hold': {
        const hold = holdNextAnswer(probe);
        held = hold;
        return void hold.arrived.then(() => send({ type: 'held' }));
      }
      case 'release':
        return held?.release();
      case 'report':
        return send({
          type: 'report',
          stats: manager.stats(),
          unhandled,
          leaked: leakedSecrets(logger, probe.secrets),
        });
      case 'idle':
        return void manager.whenIdle().then(() => send({ type: 'idle' }));
      case 'close':
        return void manager
          .close()
          .then(() => typeof redis === 'string' || redis.disconnect())
          .then(() => new Promise((resolve) => server.close(resolve)))
          .then(() => send({ type: 'closed' }));
    }
  });
  await manager.ready();
  send({ type: 'ready' });
}

/**
 * The worker's Redis: a URL (REDIS_URL), or with REDIS_SENTINEL (JSON `{ sentinels, name }`) a
 * client that follows a Sentinel group's primary, with the fail-fast options the manager gives its own.
 */
function redisOption(): string | Redis {
  const sentinel = process.env.REDIS_SENTINEL;
  if (!sentinel) return env('REDIS_URL');
  const { sentinels, name } = JSON.parse(sentinel) as {
    sentinels: Array<{ host: string; port: number }>;
    name: string;
  };
  const client = new Redis({ sentinels, name, commandTimeout: 2_000, maxRetriesPerRequest: 2 });
  client.on('error', () => undefined); // the failover is the point; the manager reports what it meets
  return client;
}

main().catch((error: unknown) => {
  process.send?.({ type: 'failed', error: String(error) });
  process.exitCode = 1;
});
