// A Redis of our own for the run: `redis-server` on a free loopback port, no persistence, stopped
// at the end (or when this process exits), so command counts and memory are ours alone.

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import IORedis from 'ioredis';

export interface RedisTarget {
  url: string;
  /** True for our own redis-server; false when falling back to a shared one (counts then approximate). */
  dedicated: boolean;
  version: string;
  /** The redis-server process, when it is ours. */
  pid?: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function waitForPing(url: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new IORedis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const info = await client.info('server');
      return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
}

function spawnServer(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    child.once('error', reject);
    child.once('spawn', () => resolve(child));
  });
}

/**
 * Starts a dedicated redis-server. Without one on PATH, uses `BENCH_REDIS_URL` or the shared
 * 127.0.0.1:6379 (never flushed: the run only touches keys under its own prefix).
 */
export async function startRedis(): Promise<RedisTarget> {
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = await spawnServer(port);
  } catch {
    const url = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
    return { url, dedicated: false, version: await waitForPing(url, 2_000), stop: async () => undefined };
  }
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', kill);
  const url = `redis://127.0.0.1:${port}`;
  const version = await waitForPing(url, 5_000);
  return {
    url,
    dedicated: true,
    version,
    pid: child.pid,
    async stop() {
      process.removeListener('exit', kill);
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
