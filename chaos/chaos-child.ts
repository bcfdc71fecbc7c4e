// A chaos worker: one app process with the token middleware on a tiny Express app, sharing Redis
// with the others. Each round it sends its own app a burst of requests and sorts the answers: a
// token the simulator accepts, a 503 with Retry-After, or anything else (a failure).

import type { AddressInfo } from 'node:net';
import express from 'express';
import { type TokenManagerOptions, createTokenManager } from 'jira-token-rotation';
import type { ChaosCommand, ChaosMessage, OtherAnswer } from './chaos-protocol';
import { fetchProbe } from '../support/fetch-probe';
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
  const logger = forwardingLogger(['in_doubt_recovered', 'reauthorization_required']);
  const probe = fetchProbe();
  const manager = createTokenManager({
    clientId: 'sim-client-id',
    clientSecret: 'sim-client-secret',
    tokenUrl: env('TOKEN_URL'),
    apiBaseUrl,
    redis: env('REDIS_URL'),
    keyPrefix: env('KEY_PREFIX'),
    encryptionKey: env('ENCRYPTION_KEY'),
    fetch: probe.fetch,
    logger,
    now: clock.now,
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
        const answer = await ask(`${base}/jira/${encodeURIComponent(accountId)}`);
        const body = parse(answer.body);
        if (answer.status === 200 && body?.valid === true) {
          result.ok += 1;
        } else if (answer.status === 503 && /^[1-9]\d*$/.test(answer.retryAfter ?? '') && body?.error) {
          result.served503 += 1;
          const code = String(body.error);
          result.codes[code] = (result.codes[code] ?? 0) + 1;
        } else {
          other.push({ ...answer, body: answer.body.slice(0, 200) });
        }
      }),
    );
    return { ...result, other };
  }

  process.on('message', (command: ChaosCommand) => {
    switch (command.type) {
      case 'clock':
        return clock.set(command.simNow);
      case 'round':
        clock.set(command.simNow);
        return void round(command.accountIds).then(send);
      case 'report':
        return send({
          type: 'report',
          stats: manager.stats(),
          unhandled,
          leaked: leakedSecrets(logger, probe.secrets),
        });
      case 'close':
        return void manager
          .close()
          .then(() => new Promise((resolve) => server.close(resolve)))
          .then(() => send({ type: 'closed' }));
    }
  });
  await manager.ready();
  send({ type: 'ready' });
}

/** One request to the worker's own app; a failed exchange is an answer with status 0. */
async function ask(url: string): Promise<OtherAnswer> {
  try {
    const answer = await fetch(url);
    return {
      status: answer.status,
      retryAfter: answer.headers.get('retry-after'),
      body: await answer.text(),
    };
  } catch (error) {
    return { status: 0, retryAfter: null, body: String(error) };
  }
}

function parse(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

main().catch((error: unknown) => {
  process.send?.({ type: 'failed', error: String(error) });
  process.exitCode = 1;
});
