// What the Redis suites share: throwaway redis-servers for the tests where
// Redis dies or comes late, recording loggers, the commands a client sends, and the connections
// Redis lists by name.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../../src/logger';

export const REDIS_PORT = 6379;

export function recordingLogger(): Logger & { [K in keyof Logger]: jest.Mock } {
  return { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
}

/** Records the names of the commands `redis` sends from now on, in order. */
export function recordCommands(redis: Redis): string[] {
  const sent: string[] = [];
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    sent.push(command.name);
    return (send as (...args: unknown[]) => unknown)(command, ...rest);
  }) as Redis['sendCommand'];
  return sent;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A throwaway redis-server child, for the tests where Redis dies or comes late. */
export async function startRedisServer(port: number): Promise<{ stop(): Promise<void> }> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited early (${code}): ${output}`)));
  });
  return {
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** `CLIENT LIST` entries carrying a name, as field maps. */
export async function clientsNamed(admin: Redis, name: string): Promise<Record<string, string>[]> {
  const list = (await admin.client('LIST')) as string;
  return list
    .split('\n')
    .filter(Boolean)
    .map((line) =>
      Object.fromEntries(line.split(' ').map((field) => field.split(/=(.*)/s, 2) as [string, string])),
    )
    .filter((fields) => fields.name === name);
}

/** A suite's Redis: an admin client, a fresh key prefix per test, and clients and cleanups for it. */
export interface RedisSuite {
  /** A connection of the test's own, for looking at what the code under test did. */
  admin: Redis;
  /** Unique per test; every key under it is deleted after the test. */
  prefix: string;
  /** Run after each test, first to last (unshift what must run before the clients close). */
  cleanups: (() => Promise<unknown> | void)[];
  /** A client standing for one app process; closed after the test. */
  client(options?: RedisOptions): Redis;
}

/** Registers the suite's hooks (call it inside `describe`, before the suite's own hooks). */
export function useRedisSuite(): RedisSuite {
  const suite: RedisSuite = {
    admin: undefined as unknown as Redis,
    prefix: '',
    cleanups: [],
    client(options = {}) {
      const redis = new Redis({ port: REDIS_PORT, ...options });
      // Connection errors are what some tests are about; without a listener ioredis prints them.
      redis.on('error', () => undefined);
      // Not on an ended client: ioredis would start a 2 s timer to destroy a socket already gone.
      suite.cleanups.push(() => {
        if (redis.status !== 'end') redis.disconnect();
      });
      return redis;
    },
  };

  beforeAll(() => {
    suite.admin = new Redis({ port: REDIS_PORT });
  });

  afterAll(async () => {
    await suite.admin.quit();
  });

  beforeEach(() => {
    suite.prefix = `jtr-test-${randomUUID()}:`;
  });

  afterEach(async () => {
    for (const cleanup of suite.cleanups.splice(0)) await cleanup();
    const keys = await suite.admin.keys(`${suite.prefix}*`);
    if (keys.length) await suite.admin.del(...keys);
  });

  return suite;
}
