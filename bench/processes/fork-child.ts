// Forks one compiled benchmark child (dist/bench/…) and wraps it in an RPC client.

import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { type Operations, RpcClient } from '../ipc';

export interface ForkedChild<Ops extends Operations> {
  process: ChildProcess;
  rpc: RpcClient<Ops>;
  /** Waits for the child to exit, killing it after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface ForkOptions {
  /** Extra V8/Node flags, such as `--cpu-prof`. */
  execArgv?: string[];
}

/**
 * `module` is relative to dist/bench. The child's stdout goes to our stderr, so a stray line can
 * never end up after the JSON line that `--json` promises as the last line of stdout.
 */
export function forkChild<Ops extends Operations>(
  module: string,
  name: string,
  options: ForkOptions = {},
): ForkedChild<Ops> {
  const child = fork(join(__dirname, '..', module), [], {
    stdio: ['ignore', 2, 2, 'ipc'],
    execArgv: options.execArgv ?? [],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    rpc: new RpcClient<Ops>(child, name),
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
