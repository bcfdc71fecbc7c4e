// A vendor's process on a Redis Cluster, reduced to its notice channel: it follows one tenant's
// sharded notices through the package's public RedisNoticeChannel, says so once a notice has come
// back through the subscriber, and closes the channel when told. It installs no handler of its
// own for uncaught errors: a late reply that ioredis cannot place must not end it with code 1.

import { RedisNoticeChannel, type UserRef } from 'jira-token-rotation';

export type LateReplyCommand = { type: 'close' };
export type LateReplyMessage = { type: 'following' };

const config = JSON.parse(process.env.LATE_REPLY_CLUSTER ?? 'null') as {
  startupNodes: Array<{ host: string; port: number }>;
  natMap: Record<string, { host: string; port: number }>;
} | null;
if (!config) throw new Error('late-reply-child needs LATE_REPLY_CLUSTER');

const user: UserRef = { clientKey: 'late-reply-tenant', accountId: 'late-reply-user' };
const channel = new RedisNoticeChannel({
  redis: {
    cluster: config.startupNodes,
    options: { natMap: config.natMap, redisOptions: { maxRetriesPerRequest: 1 } },
  },
});

async function follow(): Promise<void> {
  await channel.ready();
  // The first wait follows the tenant; a notice heard back proves the subscription carries them.
  for (;;) {
    const wait = channel.waitForNotice(user, 200);
    await channel.publish({ user, kind: 'rotated', origin: 'elsewhere' });
    if (await wait.promise) return;
  }
}

process.on('message', (command: LateReplyCommand) => {
  if (command.type !== 'close') return;
  void channel.close().then(() => process.disconnect());
});

follow().then(
  () => process.send!({ type: 'following' } satisfies LateReplyMessage),
  (error: unknown) => {
    process.stderr.write(`late-reply-child: ${String(error)}\n`);
    process.exit(2);
  },
);
