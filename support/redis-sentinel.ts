// Throwaway Sentinel-managed Redis groups on free ports: one primary, its replicas, and sentinels
// (`redis-server --sentinel`, which stands in for `redis-sentinel` where that is not installed).
// For the tests and benchmarks that need a failover; they never touch the shared Redis on 6379.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, freePort, startRedisServer } from './redis-server';
import { withNode } from './redis-poll';

export interface RedisSentinelOptions {
  /** Replicas of the primary. Default 1. */
  replicas?: number;
  /** Sentinels watching it. Default 3 (a quorum of 2 survives one sentinel's loss). */
  sentinels?: number;
  /** The name sentinels know the group by. Default `jtr`. */
  name?: string;
  /** How long a primary may be silent before it is subjectively down, ms. Default 1 000. */
  downAfterMs?: number;
  /** Sentinel's failover timeout, ms. Default 5 000. */
  failoverTimeoutMs?: number;
}

export interface RedisSentinelGroup {
  /** The group's name, what `new Redis({ sentinels, name })` takes. */
  name: string;
  /** What `new Redis({ sentinels, name })` takes. */
  sentinels: Array<{ host: string; port: number }>;
  /** The data nodes, the first primary first; after a failover another one is primary. */
  nodes: RedisServer[];
  /** The sentinel processes. */
  sentinelNodes: RedisServer[];
  /** The port of the primary the sentinels name now. */
  primaryPort(): Promise<number>;
  /**
   * Resolves once the sentinels name a primary other than `port`, and that primary answers as one:
   * a failover has completed.
   */
  waitForFailover(fromPort: number, timeoutMs?: number): Promise<number>;
  /** Stops every process and removes their directories. */
  close(): Promise<void>;
}

/** Starts the primary and replicas, then the sentinels; resolves once replicas are in sync and every sentinel sees them. */
export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelGroup> {
  const name = options.name ?? 'jtr';
  const replicaCount = options.replicas ?? 1;
  const sentinelCount = options.sentinels ?? 3;
  const quorum = Math.floor(sentinelCount / 2) + 1;
  const primary = await startRedisServer();
  const replicas = await Promise.all(
    Array.from({ length: replicaCount }, () =>
      startRedisServer({ args: ['--replicaof', '127.0.0.1', String(primary.port)] }),
    ),
  );
  const nodes = [primary, ...replicas];
  const confDir = mkdtempSync(join(tmpdir(), 'jtr-sentinel-'));
  const sentinelNodes: RedisServer[] = [];
  const close = async (): Promise<void> => {
    await Promise.all([...sentinelNodes, ...nodes].map((node) => node.close()));
    rmSync(confDir, { recursive: true, force: true });
  };
  try {
    for (const replica of replicas) await waitFor(() => linkUp(replica.port), 'replica never synced');
    for (let index = 0; index < sentinelCount; index++) {
      const port = await freePort();
      // Sentinel rewrites its configuration file, so each needs one of its own.
      const file = join(confDir, `sentinel-${index}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} ${quorum}`,
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1_000}`,
          `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 5_000}`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      sentinelNodes.push(
        await startRedisServer({ configFile: file, args: ['--sentinel'], port, readyLine: 'Sentinel ID is' }),
      );
    }
    // Every sentinel has found every replica and the other sentinels: a failover can be agreed.
    for (const sentinel of sentinelNodes) {
      await waitFor(async () => {
        const [replicasSeen, othersSeen] = await withNode(sentinel.port, async (client) => [
          ((await client.call('SENTINEL', 'REPLICAS', name)) as unknown[]).length,
          ((await client.call('SENTINEL', 'SENTINELS', name)) as unknown[]).length,
        ]);
        return replicasSeen === replicaCount && othersSeen === sentinelCount - 1;
      }, 'sentinels never saw the whole group');
    }
  } catch (error) {
    await close();
    throw error;
  }

  const primaryPort = async (): Promise<number> => {
    for (const sentinel of sentinelNodes) {
      if (!sentinel.running) continue;
      try {
        const address = await withNode(
          sentinel.port,
          (client) => client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name) as Promise<string[]>,
        );
        return Number(address[1]);
      } catch {
        // Ask the next one.
      }
    }
    throw new Error('No sentinel answered');
  };

  return {
    name,
    sentinels: sentinelNodes.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port })),
    nodes,
    sentinelNodes,
    primaryPort,
    waitForFailover: async (fromPort, timeoutMs = 30_000) => {
      let promoted = fromPort;
      await waitFor(
        async () => {
          promoted = await primaryPort();
          if (promoted === fromPort) return false;
          const role = await withNode(promoted, (client) => client.call('ROLE') as Promise<unknown[]>);
          return role[0] === 'master';
        },
        'no failover',
        timeoutMs,
      );
      return promoted;
    },
    close,
  };
}

function linkUp(port: number): Promise<boolean> {
  return withNode(port, async (client) =>
    (await client.info('replication')).includes('master_link_status:up'),
  );
}

/** Polls `check` with a capped backoff until it holds; a condition, not a fixed sleep. */
async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    if (await check().catch(() => false)) return;
    if (Date.now() > giveUpAt) throw new Error(`Redis Sentinel: ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
