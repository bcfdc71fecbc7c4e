// A child process forked from compiled JS, talked to over IPC: messages are queued until the parent
// (a test or a chaos run) asks for them, so no message is lost between two awaits, and a child that dies fails the wait.

import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Every child message has a `type`; `failed` carries the child's own start-up error. */
/** What a child sends. */
export interface ChildMessage {
  type: string;
}

/** A forked child and its queued messages. */
export interface ForkedChild<M extends ChildMessage> {
  child: ChildProcess;
  /**
   * The first queued or future message of `type` (and matching `where`); other messages stay
   * queued. Rejects when the child reports `failed` or exits first.
   */
  next<T extends M['type']>(
    type: T,
    where?: (message: Extract<M, { type: T }>) => boolean,
  ): Promise<Extract<M, { type: T }>>;
  send(message: object): void;
  /** SIGKILL (or `signal`), resolved once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Forks `path` (compiled JS: `npm run build` builds the chaos worker, `npm run build:test` the test
 * children; jest builds neither, `npm test` runs both) with `env` added to this process's environment. The child's stdout and stderr go to ours.
 */
export function forkChild<M extends ChildMessage>(path: string, env: Record<string, string>): ForkedChild<M> {
  if (!existsSync(path))
    throw new Error(`${path} is missing: run npm run build and npm run build:test (npm test does)`);
  const child = fork(path, [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox: M[] = [];
  type Waiter = { accepts: (m: M) => boolean; resolve: (m: M) => void; reject: (e: Error) => void };
  const waiters = new Set<Waiter>();
  let ended: Error | undefined;

  const failAll = (error: Error): void => {
    ended ??= error;
    for (const waiter of waiters) waiter.reject(error);
    waiters.clear();
  };
  child.on('message', (message: M) => {
    if (message.type === 'failed') return failAll(new Error(`child failed: ${JSON.stringify(message)}`));
    for (const waiter of waiters) {
      if (!waiter.accepts(message)) continue;
      waiters.delete(waiter);
      return waiter.resolve(message);
    }
    inbox.push(message);
  });
  child.on('exit', (code, signal) =>
    failAll(new Error(`child exited (${signal ?? code}) before the message`)),
  );

  return {
    child,
    next: (type, where = () => true) =>
      new Promise((resolve, reject) => {
        const accepts = (m: M): boolean => m.type === type && where(m as Extract<M, { type: typeof type }>);
        const queued = inbox.findIndex(accepts);
        if (queued >= 0) return resolve(inbox.splice(queued, 1)[0] as Extract<M, { type: typeof type }>);
        if (ended) return reject(ended);
        waiters.add({ accepts, resolve: resolve as (m: M) => void, reject });
      }),
    send: (message) => {
      child.send(message);
    },
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      await gone;
    },
  };
}
