// Throwaway redis-server processes on free ports, for the tests where Redis dies, restarts or is
// configured differently. They never touch the shared Redis on 6379.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerOptions {
  /** Append-only file with `appendfsync always` in a temporary directory. Default false. */
  aof?: boolean;
  /** More `redis-server` arguments, e.g. `['--rename-command', 'CONFIG', '']`. */
  args?: string[];
}

export interface RedisServer {
  port: number;
  url: string;
  /** Whether a redis-server process is running now. */
  readonly running: boolean;
  /** Stops the process (SIGKILL: no shutdown, no last save) and resolves once it is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /** SIGSTOP: Redis hangs; the kernel still completes connections to its port, nothing answers. */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/**
 * A free port below Linux's ephemeral range (32768-60999). While a Redis is down its clients keep
 * connecting to its port; were that port ephemeral, one of those connections could be given it as
 * its own source port (a TCP self-connect), or a port-0 listener could take it, and the restart
 * would fail. Ports here are handed out by nobody but us.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'jtr-redis-'));
  const persistence = options.aof
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    ...persistence,
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    const server = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    child = server;
    exited = new Promise((resolve) => server.once('exit', () => resolve()));
    // Redis says so on stdout when it has loaded its data and listens.
    await new Promise<void>((resolve, reject) => {
      let output = '';
      server.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`redis-server exited early (${code}): ${output}`)));
    });
  };
  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    stop,
    start,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
