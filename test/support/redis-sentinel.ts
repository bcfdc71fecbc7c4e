// Throwaway Sentinel groups on free ports: a primary, replicas, and `redis-server --sentinel`
// processes monitoring it (there is no redis-sentinel binary here), for the tests of Redis found
// through Sentinel. They never touch the shared Redis on 6379.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { untilNode } from '../../support/redis-poll';
import { type RedisServer, freePort, startRedisServer } from '../../support/redis-server';

export interface RedisSentinelOptions {
  /** Replicas of the primary. Default 1. */
  replicas?: number;
  /** Sentinel processes, 1 to 3. Default 1 (the quorum is a majority of them). */
  sentinels?: number;
  /** The primary's name in the sentinels' configuration. Default `jtr-primary`. */
  name?: string;
  /** Sentinel's `down-after-milliseconds`. Default 1 000. */
  downAfterMs?: number;
}

export interface RedisSentinelGroup {
  name: string;
  primary: RedisServer;
  replicas: RedisServer[];
  /** What ioredis takes as `sentinels`. */
  sentinels: Array<{ host: string; port: number }>;
  /** Stops every process and removes their directories. */
  close(): Promise<void>;
}

/** Starts the primary, its replicas and the sentinels; resolves once every sentinel knows every replica. */
export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<RedisSentinelGroup> {
  const name = options.name ?? 'jtr-primary';
  const count = options.sentinels ?? 1;
  const quorum = Math.floor(count / 2) + 1;
  const primary = await startRedisServer();
  const replicas = await Promise.all(
    Array.from({ length: options.replicas ?? 1 }, () =>
      startRedisServer({ args: ['--replicaof', '127.0.0.1', String(primary.port)] }),
    ),
  );
  const sentinels: SentinelProcess[] = [];
  const close = async (): Promise<void> => {
    await Promise.all([
      ...sentinels.map((s) => s.close()),
      primary.close(),
      ...replicas.map((r) => r.close()),
    ]);
  };
  try {
    for (let i = 0; i < count; i += 1) {
      sentinels.push(
        await startSentinel([
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} ${quorum}`,
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1_000}`,
          `sentinel failover-timeout ${name} 10000`,
        ]),
      );
    }
    await Promise.all(sentinels.map((s) => knowsReplicas(s.port, name, replicas.length)));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    name,
    primary,
    replicas,
    sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
    close,
  };
}

interface SentinelProcess {
  port: number;
  close(): Promise<void>;
}

/** Sentinel rewrites its configuration file, so each one gets a file of its own in a temporary directory. */
async function startSentinel(lines: string[]): Promise<SentinelProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'jtr-sentinel-'));
  const config = join(dir, 'sentinel.conf');
  writeFileSync(config, [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, ...lines, ''].join('\n'));
  const child: ChildProcess = spawn('redis-server', [config, '--sentinel'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('+monitor master')) resolve();
    });
    child.once('exit', (code) =>
      reject(new Error(`redis-server --sentinel exited early (${code}): ${output}`)),
    );
  });
  return {
    port,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until the sentinel lists `count` replicas of the primary (it learns them from INFO). */
async function knowsReplicas(port: number, name: string, count: number): Promise<void> {
  await untilNode(
    port,
    async (client) => ((await client.call('SENTINEL', 'REPLICAS', name)) as unknown[]).length >= count,
    `Sentinel ${port} never learned the replicas of ${name}`,
  );
}
