// What the orchestrator reads from Redis: command counts (INFO commandstats), memory, and the
// keys under the run's prefix.

import IORedis, { type Redis } from 'ioredis';

/** Calls per command, e.g. `{ evalsha: 3, hgetall: 2 }`. */
export type CommandCalls = Record<string, number>;

/** Our own probes, which are not the app's traffic. */
const PROBE_COMMANDS = new Set(['info', 'scan', 'ping', 'client|setname', 'client|setinfo']);

export class RedisProbe {
  private readonly redis: Redis;

  constructor(url: string) {
    this.redis = new IORedis(url, { connectionName: 'bench-probe' });
  }

  async commandCalls(): Promise<CommandCalls> {
    const info = await this.redis.info('commandstats');
    const calls: CommandCalls = {};
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
    return calls;
  }

  async usedMemory(): Promise<number> {
    const info = await this.redis.info('memory');
    return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
  }

  async keys(prefix: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', 1_000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return found;
  }

  /** Deletes every key under `prefix`; returns how many there were. */
  async deleteUnder(prefix: string): Promise<number> {
    const keys = await this.keys(prefix);
    for (let i = 0; i < keys.length; i += 500) await this.redis.unlink(...keys.slice(i, i + 500));
    return keys.length;
  }

  /**
   * Every command Redis runs while `fn` runs, from MONITOR: those the clients sent, in order, and
   * those Lua scripts ran. MONITOR slows Redis down, so only short probes use it.
   */
  async monitor<T>(fn: () => Promise<T>): Promise<{ value: T; sent: string[]; scripted: string[] }> {
    const monitor = await this.redis.monitor();
    const sent: string[] = [];
    const scripted: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const command = String(args[0]).toLowerCase();
      if (source === 'lua') scripted.push(command);
      else if (!PROBE_COMMANDS.has(command)) sent.push(command);
    });
    try {
      const value = await fn();
      // MONITOR lines can trail the replies by a moment; a PING through the probe marks the end.
      await this.redis.ping();
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { value, sent, scripted };
    } finally {
      monitor.disconnect();
    }
  }

  close(): Promise<unknown> {
    return this.redis.quit();
  }
}

/** `['hmget', 'evalsha', 'hmget']` → `{ hmget: 2, evalsha: 1 }`. */
export function countCommands(commands: string[]): CommandCalls {
  const calls: CommandCalls = {};
  for (const command of commands) calls[command] = (calls[command] ?? 0) + 1;
  return calls;
}

/** The commands between two snapshots, without our own probes; zero entries dropped. */
export function commandDelta(before: CommandCalls, after: CommandCalls): CommandCalls {
  const delta: CommandCalls = {};
  for (const [command, calls] of Object.entries(after)) {
    const n = calls - (before[command] ?? 0);
    if (n > 0 && !PROBE_COMMANDS.has(command)) delta[command] = n;
  }
  return delta;
}

export function addCalls(a: CommandCalls, b: CommandCalls): CommandCalls {
  const sum: CommandCalls = { ...a };
  for (const [command, n] of Object.entries(b)) sum[command] = (sum[command] ?? 0) + n;
  return sum;
}

export function totalCalls(calls: CommandCalls): number {
  return Object.values(calls).reduce((sum, n) => sum + n, 0);
}

function globEscape(value: string): string {
  return value.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
