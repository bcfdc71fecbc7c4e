// What one notice costs a Redis Cluster, by how it travels: classic PUBLISH on one channel (what a
// cluster got before: every node relays each message over the cluster bus) against SPUBLISH on the
// tenant's channel (RedisNoticeChannel now: only the shard holding the tenant's slot handles it),
// at 3 and 6 nodes. Not a timed test; run it by hand:
//
//   npm run build && node dist/bench/micro/notice-cost.js [notices] [subscribers]
//
// Per layout it starts a throwaway cluster, opens `subscribers` channels (one per app process in
// production), follows 50 tenants on each, publishes `notices` notices round-robin over the
// tenants, waits until every subscriber received every one, and reads the difference, summed over
// every node, of: cluster-bus publish messages sent (CLUSTER INFO
// cluster_stats_messages_publish_sent + _publishshard_sent), bytes written to clients (INFO
// total_net_output_bytes: deliveries plus replies) and server CPU (INFO used_cpu_user + _sys).

import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Cluster } from 'ioredis';
import { RedisNoticeChannel } from 'jira-token-rotation';
import { startRedisCluster } from '../../support/redis-cluster';

const NOTICES = Number(process.argv[2] ?? 3_000);
const SUBSCRIBERS = Number(process.argv[3] ?? 4);
const TENANTS = 50;
const LAYOUTS = [
  { label: '3 primaries', masters: 3, replicasPerMaster: 0 },
  { label: '3 primaries + 3 replicas', masters: 3, replicasPerMaster: 1 },
  { label: '6 primaries', masters: 6, replicasPerMaster: 0 },
];

interface Totals {
  busMessages: number;
  outputBytes: number;
  cpuSeconds: number;
}

function field(text: string, name: string): number {
  const match = new RegExp(`^${name}:([0-9.]+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

async function totals(admin: Cluster): Promise<Totals> {
  const sum: Totals = { busMessages: 0, outputBytes: 0, cpuSeconds: 0 };
  for (const node of admin.nodes('all')) {
    const bus = String(await node.cluster('INFO'));
    const info = await node.info();
    sum.busMessages +=
      field(bus, 'cluster_stats_messages_publish_sent') +
      field(bus, 'cluster_stats_messages_publishshard_sent');
    sum.outputBytes += field(info, 'total_net_output_bytes');
    sum.cpuSeconds += field(info, 'used_cpu_user') + field(info, 'used_cpu_sys');
  }
  return sum;
}

/** Resolves once `count()` reaches `target`, checking on every turn of the event loop. */
async function reach(count: () => number, target: number): Promise<void> {
  const giveUpAt = performance.now() + 60_000;
  while (count() < target) {
    if (performance.now() > giveUpAt) throw new Error(`Only ${count()} of ${target} deliveries arrived`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function measure(
  admin: Cluster,
  publish: (i: number) => Promise<unknown>,
  delivered: () => number,
): Promise<Totals & { ms: number }> {
  const before = await totals(admin);
  const start = performance.now();
  for (let i = 0; i < NOTICES; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, NOTICES - i) }, (_, j) => publish(i + j)));
  }
  await reach(delivered, NOTICES * SUBSCRIBERS);
  const ms = performance.now() - start;
  const after = await totals(admin);
  return {
    busMessages: after.busMessages - before.busMessages,
    outputBytes: after.outputBytes - before.outputBytes,
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
    ms,
  };
}

async function sharded(admin: Cluster, startupNodes: Array<{ host: string; port: number }>) {
  const keyPrefix = `jtr-bench:${randomUUID()}:`;
  const clients = Array.from({ length: SUBSCRIBERS }, () => new Cluster(startupNodes));
  const channels = clients.map((redis) => new RedisNoticeChannel({ redis, keyPrefix }));
  const users = Array.from({ length: TENANTS }, (_, t) => ({ clientKey: `tenant-${t}`, accountId: 'u' }));
  let delivered = 0;
  for (const channel of channels) {
    channel.onNotice(() => (delivered += 1));
    // A wait follows the tenant's channel; the bench then waits for the subscriptions to settle.
    for (const user of users) channel.waitForNotice(user, 1).cancel();
  }
  // Every channel hears every tenant before the count starts (a malformed probe, which channels ignore).
  for (const user of users) {
    const channel = `${keyPrefix}{t:${Buffer.from(user.clientKey).toString('base64url')}}:notices`;
    while (Number(await admin.call('SPUBLISH', channel, 'probe')) < SUBSCRIBERS) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const result = await measure(
    admin,
    (i) => channels[0].publish({ user: users[i % TENANTS], kind: 'rotated' }),
    () => delivered,
  );
  await Promise.all(channels.map((channel) => channel.close()));
  clients.forEach((client) => client.disconnect());
  return result;
}

async function classic(admin: Cluster, startupNodes: Array<{ host: string; port: number }>) {
  const channel = `jtr-bench:${randomUUID()}:notices`;
  const publisher = new Cluster(startupNodes);
  const subscribers = Array.from({ length: SUBSCRIBERS }, () => new Cluster(startupNodes));
  let delivered = 0;
  for (const subscriber of subscribers) {
    subscriber.on('message', () => (delivered += 1));
    await subscriber.subscribe(channel);
  }
  const message = JSON.stringify({ u: 'dGVuYW50LTA.dQ', k: 'rotated', o: 'bench-origin' });
  const result = await measure(
    admin,
    () => publisher.publish(channel, message),
    () => delivered,
  );
  publisher.disconnect();
  subscribers.forEach((subscriber) => subscriber.disconnect());
  return result;
}

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const layout of LAYOUTS) {
    const cluster = await startRedisCluster(layout);
    const admin = new Cluster(cluster.startupNodes);
    try {
      await admin.ping();
      for (const [how, run] of [
        ['PUBLISH (before)', classic],
        ['SPUBLISH (now)', sharded],
      ] as const) {
        const r = await run(admin, cluster.startupNodes);
        rows.push(
          [
            layout.label,
            cluster.nodes.length,
            how,
            (r.busMessages / NOTICES).toFixed(2),
            (r.outputBytes / NOTICES).toFixed(0),
            ((r.cpuSeconds * 1e6) / NOTICES).toFixed(1),
            ((NOTICES / r.ms) * 1000).toFixed(0),
          ].join(' | '),
        );
      }
    } finally {
      admin.disconnect();
      await cluster.close();
    }
  }
  process.stdout.write(
    `${NOTICES} notices, ${SUBSCRIBERS} subscribers, ${TENANTS} tenants\n` +
      'layout | nodes | how | bus messages/notice | client bytes/notice | server CPU µs/notice | notices/s\n' +
      `${rows.join('\n')}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
