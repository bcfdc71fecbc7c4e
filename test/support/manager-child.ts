// A separate app process for the multi-process tests: one token manager on the shared Redis,
// told over IPC when to fire its burst, answering with token fingerprints (never tokens).

import { createTokenManager, fingerprint } from 'jira-token-rotation';

interface Go {
  type: 'go';
  concurrency: number;
  /** The simulator's clock at the moment of the burst (this process shares it by offset). */
  simNow: number;
}

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`manager-child needs ${name}`);
  return value;
};

async function main(): Promise<void> {
  let simNow = Number(env('SIM_NOW'));
  let offsetFrom = Date.now();
  const manager = createTokenManager({
    clientId: 'sim-client-id',
    clientSecret: 'sim-client-secret',
    tokenUrl: env('TOKEN_URL'),
    redis: env('REDIS_URL'),
    keyPrefix: env('KEY_PREFIX'),
    encryptionKey: env('ENCRYPTION_KEY'),
    recoveryIntervalMs: 0,
    // The simulator's manual clock, plus the real time elapsed since the parent last told us. It is
    // the world's clock here, which Redis TIME knows nothing of: no offset is measured to it.
    now: () => simNow + (Date.now() - offsetFrom),
    clockSyncIntervalMs: 0,
  });
  const user = { clientKey: env('CLIENT_KEY'), accountId: env('ACCOUNT_ID') };
  // Connected and subscribed before the burst, so waiters wake on the notice.
  await manager.ready();
  await manager.status(user);
  process.on('message', (message: Go) => {
    if (message.type !== 'go') return;
    simNow = message.simNow;
    offsetFrom = Date.now();
    void Promise.allSettled(
      Array.from({ length: message.concurrency }, () => manager.getAccessToken(user)),
    ).then(async (outcomes) => {
      const results = outcomes.map((o) =>
        o.status === 'fulfilled'
          ? { ok: fingerprint(o.value.accessToken) }
          : { error: String(o.reason?.code ?? o.reason) },
      );
      process.send!({ type: 'done', results, stats: manager.stats() });
      await manager.close();
      process.disconnect();
    });
  });
  process.send!({ type: 'ready' });
}

main().catch((error: unknown) => {
  process.send?.({ type: 'failed', error: String(error) });
  process.exitCode = 1;
});
